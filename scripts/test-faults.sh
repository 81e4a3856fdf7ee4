#!/usr/bin/env bash
# npm run test:faults: the fault suite alone (test/faults/: kill -9, Redis restart, sick targets,
# input fuzzing). `npm test` runs it too. HOOKGATE_FAULT_EVENTS and HOOKGATE_FUZZ_RUNS size it.
source "$(dirname "$0")/lib.sh"
ensure_node
ensure_deps
ensure_redis_server
cd "$ROOT"
exec node --test --test-concurrency=1 --test-timeout=300000 "test/faults/*.test.ts"
