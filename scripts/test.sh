#!/usr/bin/env bash
# npm test: type check, lint, then every test with node's test runner. Tests start their own
# redis-server on a unix socket in a temporary directory, so only the binary is needed here.
source "$(dirname "$0")/lib.sh"
ensure_node
ensure_deps
ensure_redis_server
ensure_chromium
ensure_web_build
cd "$ROOT"
log "node $(node -v), $(redis-server --version | cut -d' ' -f1-3)"
npx tsc --noEmit
npx tsc --noEmit -p web/playground
npx tsc --noEmit -p web/dashboard
npx biome check .
exec node --test --test-concurrency=2 --test-timeout=180000 "test/**/*.test.ts"
