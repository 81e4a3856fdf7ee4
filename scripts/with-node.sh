#!/usr/bin/env bash
# Runs a command with Node 24 and the dependencies in place: scripts/with-node.sh node bench/x.ts
source "$(dirname "$0")/lib.sh"
ensure_node
ensure_deps
cd "$ROOT"
exec "$@"
