#!/usr/bin/env node
// The `hookgate` command (package.json "bin"). The CLI is TypeScript (src/cli/main.ts) that Node 24
// runs as is; this file only finds that Node, so it stays plain JavaScript any Node can start.
// Node 24 or later here: run the CLI in this process. Older: the Node 24 that `npm start`
// installs into .tools/ if it is there; otherwise scripts/lib.sh installs it (and the
// dependencies) first, as `npm start` does.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const args = process.argv.slice(2);
const major = Number(process.versions.node.split(".")[0]);
const depsInstalled = existsSync(`${root}node_modules/zod`);

function exitWith(result) {
  if (result.error) {
    process.stderr.write(`hookgate: ${result.error.message}\n`);
    process.exit(1);
  }
  process.exit(result.status ?? 1);
}

if (major >= 24 && depsInstalled) {
  await import(new URL("../src/cli/main.ts", import.meta.url).href);
} else {
  // The build scripts/lib.sh installs for this machine: node-<os>-<cpu>.
  const tools = `${root}.tools/node/node_modules/node-${process.platform}-${process.arch}/bin/node`;
  if (existsSync(tools) && depsInstalled) {
    exitWith(spawnSync(tools, [main, ...args], { stdio: "inherit" }));
  } else {
    const script = 'source "$1"; shift; ensure_node; ensure_deps; exec node "$0" "$@"';
    exitWith(spawnSync("bash", ["-c", script, main, `${root}scripts/lib.sh`, ...args], { stdio: "inherit" }));
  }
}
