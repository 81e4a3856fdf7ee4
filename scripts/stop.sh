#!/usr/bin/env bash
# npm run stop: stops this checkout's embedded redis-server (the one npm start runs without
# REDIS_URL). It refuses while a gateway is still connected to it, unless given --force.
source "$(dirname "$0")/lib.sh"
command -v redis-cli >/dev/null || { log "redis-cli not found: no embedded Redis to stop"; exit 0; }
stop_embedded_redis "${1:-}"
