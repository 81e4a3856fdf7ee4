#!/usr/bin/env bash
# npm start: the gateway on the embedded default. Without REDIS_URL a local redis-server is run
# with AOF persistence under .data/redis and maxmemory-policy noeviction (what BullMQ requires).
source "$(dirname "$0")/lib.sh"
ensure_node
ensure_deps
ensure_web_build
cd "$ROOT"
if [ -z "${REDIS_URL:-}" ]; then
  ensure_redis_server
  mkdir -p .data/redis
  port="${HOOKGATE_REDIS_PORT:-6390}"
  if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
    log "starting redis-server on 127.0.0.1:$port (data in .data/redis)"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$ROOT/.data/redis" --appendonly yes \
      --appendfsync always --maxmemory-policy noeviction --daemonize yes \
      --pidfile "$ROOT/.data/redis/redis.pid" --logfile "$ROOT/.data/redis/redis.log"
    for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  export REDIS_URL="redis://127.0.0.1:$port"
fi
exec node src/main.ts
