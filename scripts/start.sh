#!/usr/bin/env bash
# npm start: the gateway on the embedded default. Without REDIS_URL (or a Redis Cluster or
# Sentinels: HOOKGATE_REDIS_CLUSTER_NODES, HOOKGATE_REDIS_SENTINELS) this checkout's own
# redis-server is used (started if it is not running): a unix socket under .data/redis, AOF
# persistence and maxmemory-policy noeviction (what BullMQ requires). It keeps running after the
# gateway stops; npm run stop stops it.
source "$(dirname "$0")/lib.sh"
ensure_node
ensure_deps
ensure_web_build
cd "$ROOT"
if [ -z "${REDIS_URL:-}${HOOKGATE_REDIS_CLUSTER_NODES:-}${HOOKGATE_REDIS_SENTINELS:-}" ]; then
  if [ -n "${HOOKGATE_REDIS_PORT:-}" ]; then
    log "HOOKGATE_REDIS_PORT is no longer read: the embedded Redis listens on .data/redis/redis.sock"
  fi
  ensure_redis_server
  start_embedded_redis
  log "redis-server keeps running after the gateway stops: npm run stop stops it"
fi
exec node src/main.ts
