import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/helpers/redis-server.ts";

/*
 * Node-RED as the peer of bench/peers.ts: the flow users would build for the same job (http in →
 * function filter → function map → function signing with Standard Webhooks → http request with
 * keep-alive → http response), installed on demand into an ignored cache directory (it is not a
 * dependency of the project) and run headless on loopback.
 */

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CACHE = join(ROOT, ".tools/bench-peers");
const RED_JS = join(CACHE, "node_modules/node-red/red.js");
const FLOW_DIR = join(ROOT, "bench/node-red");
export const NODE_RED_VERSION = "5";

/** The two variants: `/hook` answers 200 after the sink did; `/hook-202` answers 202 at once. */
export const NODE_RED_PATHS = { afterDelivery: "/hook", atOnce: "/hook-202" } as const;

const FILTER = "return msg.payload.event === 'messageNew' ? [msg, null] : [null, msg];";
const MAP = [
  "const e = msg.payload;",
  "msg.payload = { id: e.eventId, subject: e.data.subject, from: e.data.from.address };",
  "return msg;",
].join("\n");
// The key is decoded once per deploy (the node's On Start), as a careful user would.
const SIGN_INIT = "context.set('key', Buffer.from(env.get('PEER_SIGNING_SECRET').slice(6), 'base64'));";
const SIGN = [
  "const body = JSON.stringify(msg.payload);",
  "const id = 'msg_' + msg.payload.id;",
  "const ts = String(Math.floor(Date.now() / 1000));",
  "const sig = crypto.createHmac('sha256', context.get('key')).update(id + '.' + ts + '.' + body).digest('base64');",
  "msg.url = env.get('PEER_SINK_URL');",
  "msg.headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': 'v1,' + sig };",
  "msg.payload = body;",
  "return msg;",
].join("\n");

/** One tab: http in → filter → map → sign → http request, answered after delivery or at once. */
function variant(tab: string, path: string, atOnce: boolean): object[] {
  const id = (n: string) => `${tab}-${n}`;
  const fn = (name: string, func: string, wires: string[][], extra: object = {}) => ({
    id: id(name),
    type: "function",
    z: tab,
    name,
    func,
    outputs: wires.length,
    timeout: 0,
    noerr: 0,
    initialize: "",
    finalize: "",
    libs: [],
    wires,
    ...extra,
  });
  return [
    { id: tab, type: "tab", label: atOnce ? "answer 202 at once" : "answer after delivery", disabled: false },
    {
      id: id("in"),
      type: "http in",
      z: tab,
      url: path,
      method: "post",
      upload: false,
      swaggerDoc: "",
      wires: [atOnce ? [id("ack"), id("filter")] : [id("filter")]],
    },
    fn("filter", FILTER, [[id("map")], atOnce ? [] : [id("skipped")]]),
    fn("map", MAP, [[id("sign")]]),
    fn("sign", SIGN, [[id("deliver")]], {
      initialize: SIGN_INIT,
      libs: [{ var: "crypto", module: "crypto" }],
    }),
    {
      id: id("deliver"),
      type: "http request",
      z: tab,
      name: "deliver",
      method: "POST",
      ret: "txt",
      paytoqs: "ignore",
      url: "",
      tls: "",
      persist: true,
      proxy: "",
      insecureHTTPParser: false,
      authType: "",
      senderr: false,
      headers: [],
      wires: [atOnce ? [] : [id("answer")]],
    },
    ...(atOnce
      ? [{ id: id("ack"), type: "http response", z: tab, statusCode: "202", headers: {}, wires: [] }]
      : [
          { id: id("answer"), type: "http response", z: tab, statusCode: "200", headers: {}, wires: [] },
          { id: id("skipped"), type: "http response", z: tab, statusCode: "204", headers: {}, wires: [] },
        ]),
  ];
}

/** Writes bench/node-red/flow.json (when its nodes changed); settings.cjs beside it is as committed. */
export function writeNodeRedFiles(): { flow: string; settings: string } {
  mkdirSync(FLOW_DIR, { recursive: true });
  const flow = join(FLOW_DIR, "flow.json");
  const settings = join(FLOW_DIR, "settings.cjs");
  const nodes = [
    ...variant("after-delivery", NODE_RED_PATHS.afterDelivery, false),
    ...variant("at-once", NODE_RED_PATHS.atOnce, true),
  ];
  // Rewritten only when the flow changed: the committed file keeps the repository's JSON layout.
  const same =
    existsSync(flow) && JSON.stringify(JSON.parse(readFileSync(flow, "utf8"))) === JSON.stringify(nodes);
  if (!same) writeFileSync(flow, `${JSON.stringify(nodes, null, 2)}\n`);
  return { flow, settings };
}

/** Installs node-red@5 into .tools/bench-peers unless it is there. */
export function ensureNodeRed(): void {
  if (existsSync(RED_JS)) return;
  mkdirSync(CACHE, { recursive: true });
  console.log(`installing node-red@${NODE_RED_VERSION} into ${CACHE} (once)`);
  const r = spawnSync(
    "npm",
    ["install", "--prefix", CACHE, "--no-audit", "--no-fund", `node-red@${NODE_RED_VERSION}`],
    { stdio: "inherit" },
  );
  if (r.status !== 0 || !existsSync(RED_JS)) throw new Error("npm install node-red failed");
}

export function installedNodeRedVersion(): string {
  const pkg = JSON.parse(readFileSync(join(CACHE, "node_modules/node-red/package.json"), "utf8")) as {
    version?: string;
  };
  return pkg.version ?? "?";
}

export interface NodeRedProcess {
  pid: number;
  url(path: string): string;
  stop(): Promise<void>;
}

/** Starts Node-RED fresh (its own user directory) and resolves once its flows run. */
export async function startNodeRed(env: { sinkUrl: string; signingSecret: string }): Promise<NodeRedProcess> {
  const { flow, settings } = writeNodeRedFiles();
  const userDir = mkdtempSync(join(tmpdir(), "hookgate-node-red-"));
  copyFileSync(flow, join(userDir, "flow.json"));
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [RED_JS, "--settings", settings, "--userDir", userDir],
    {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: userDir,
        NODE_RED_PORT: String(port),
        PEER_SINK_URL: env.sinkUrl,
        PEER_SIGNING_SECRET: env.signingSecret,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node-red did not start:\n${out}`)), 60_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      if (out.includes("Started flows")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`node-red exited ${code}:\n${out}`));
    });
  });
  if (out.includes("[error]"))
    console.log(
      out
        .split("\n")
        .filter((l) => l.includes("[error]"))
        .join("\n"),
    );
  const pid = child.pid ?? 0;
  return {
    pid,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    async stop() {
      child.kill("SIGKILL");
      await exited;
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
