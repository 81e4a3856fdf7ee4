/*
 * Hookgate against what users would pick instead, in one run on one machine (issue 19). The same
 * client (raw undici, 64 requests in flight), the same 2 KB EmailEngine `messageNew` event and the
 * same loopback sink for every system; each does filter + map + Standard Webhooks signing and one
 * POST to the sink per event:
 *   raw:       the event POSTed straight to the sink (what the machine allows);
 *   hookgate:  the gateway as its own process (src/main.ts) on a fresh Redis (AOF everysec): one
 *              event per POST /v1/events, one per POST /v1/ingest/:sourceId of an EmailEngine
 *              source (X-EE-Wh-Signature checked), and batches of 100 per POST /v1/events;
 *   node-red:  Node-RED 5 headless (bench/node-red/flow.json), answering after the delivery, and
 *              the variant answering 202 at once.
 * Each system is started fresh and warmed up; the rate runs from the first measured request to
 * the sink having every event; CPU per event is read from /proc (Redis from INFO) by part. The
 * sink checks a sample of signatures with the `standardwebhooks` package and counts duplicates.
 * Usage: npm run bench:peers [-- --events 10000 --warmup 2000 --only raw,hg-events,nr-200]
 *        [-- --profile <dir> --only hg-events]  (gateway under --cpu-prof; see profile-summary.ts)
 */
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import { Agent, request } from "undici";
import { GatewayProcess } from "../test/faults/gateway-process.ts";
import { emailEngineBody } from "./email-load.ts";
import {
  type BenchRedis,
  CountingSink,
  cpuSecondsOf,
  fmt,
  machine,
  postJson,
  processTree,
  startBenchRedis,
} from "./harness.ts";
import {
  ensureNodeRed,
  installedNodeRedVersion,
  NODE_RED_PATHS,
  type NodeRedProcess,
  startNodeRed,
} from "./peer-node-red.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "10000" },
    warmup: { type: "string", default: "2000" },
    inflight: { type: "string", default: "64" },
    only: { type: "string", default: "" },
    profile: { type: "string", default: "" },
  },
});
const N = Number(values.events);
const WARM = Number(values.warmup);
const IN_FLIGHT = Number(values.inflight);
const BATCH = 100;
const TOKEN = "bench-token-0123456789abcdef";
const SAMPLE_EVERY = 50;
// Bounds every wait: a system that loses events ends its row instead of hanging the run.
const DRAIN_TIMEOUT_MS = 120_000 + N * 10;

interface Load {
  path: string;
  headers: Record<string, string>;
  /** One request body per request: warm-up ones first. */
  bodies: string[];
  eventsPerRequest: number;
  expect: number;
}

/** The requests of one row, built before the clock starts so the client's cost is the same. */
function buildLoad(
  kind: "raw" | "events" | "batch" | "ingest" | "node-red",
  run: string,
  extra: Record<string, string> = {},
  secret = "",
): Load {
  const total = WARM + N;
  const ids = Array.from({ length: total }, (_, i) => `${run}-${i}`);
  const json = { "content-type": "application/json" };
  const auth = { ...json, authorization: `Bearer ${TOKEN}` };
  const event = (id: string) => `{"id":"evt_${id}","type":"messageNew","data":${emailEngineBody(id)}}`;
  switch (kind) {
    case "raw":
      return {
        path: "/hook",
        headers: json,
        bodies: ids.map(emailEngineBody),
        eventsPerRequest: 1,
        expect: 200,
      };
    case "node-red":
      return {
        path: extra.path ?? "/hook",
        headers: json,
        bodies: ids.map(emailEngineBody),
        eventsPerRequest: 1,
        expect: Number(extra.expect),
      };
    case "events":
      return { path: "/v1/events", headers: auth, bodies: ids.map(event), eventsPerRequest: 1, expect: 202 };
    case "batch": {
      const bodies: string[] = [];
      for (let i = 0; i < total; i += BATCH)
        bodies.push(
          `[${ids
            .slice(i, i + BATCH)
            .map(event)
            .join(",")}]`,
        );
      return { path: "/v1/events", headers: auth, bodies, eventsPerRequest: BATCH, expect: 202 };
    }
    case "ingest":
      // Each request carries its own signature header, so the headers go with the body.
      return {
        path: `/v1/ingest/${extra.sourceId}`,
        headers: json,
        bodies: ids.map((id) => {
          const body = emailEngineBody(id);
          return `${createHmac("sha256", secret).update(body).digest("base64url")}\n${body}`;
        }),
        eventsPerRequest: 1,
        expect: 200,
      };
  }
}

/** Sends bodies[from, to) with IN_FLIGHT lanes; counts answers that are not `load.expect`. */
async function drive(base: string, load: Load, from: number, to: number, agent: Agent): Promise<number> {
  let next = from;
  let wrong = 0;
  const signed = load.path.startsWith("/v1/ingest/");
  const lane = async () => {
    while (next < to) {
      const item = load.bodies[next++] as string;
      let body = item;
      let headers = load.headers;
      if (signed) {
        const cut = item.indexOf("\n");
        headers = { ...load.headers, "x-ee-wh-signature": item.slice(0, cut) };
        body = item.slice(cut + 1);
      }
      const res = await request(`${base}${load.path}`, { method: "POST", headers, body, dispatcher: agent });
      await res.body.dump();
      if (res.statusCode !== load.expect) wrong++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return wrong;
}

/** What the sink saw of one row: ids (for duplicates and losses) and a sample of signed requests. */
class Tally {
  ids = new Set<string>();
  received = 0;
  samples: { body: string; headers: Record<string, string> }[] = [];
  take(body: string, headers: Record<string, string | string[] | undefined>) {
    this.received++;
    const parsed = JSON.parse(body) as { id?: string; eventId?: string };
    this.ids.add(String(parsed.id ?? parsed.eventId));
    if (this.received % SAMPLE_EVERY === 0)
      this.samples.push({ body, headers: headers as Record<string, string> });
  }
  /** Signatures in the sample the reference verifier accepts, of how many. */
  verify(secret: string): string {
    if (!secret) return "—";
    const wh = new Webhook(secret);
    let ok = 0;
    for (const s of this.samples) {
      try {
        wh.verify(s.body, s.headers);
        ok++;
      } catch {}
    }
    return `${ok}/${this.samples.length}`;
  }
}

interface Parts {
  [part: string]: number;
}

interface System {
  /** Answers requests at `base`; `cpu()` reads its processes' CPU seconds by part. */
  base: string;
  load: Load;
  secret: string;
  cpu(): Promise<Parts>;
  stop(): Promise<void>;
}

interface Row {
  name: string;
  durability: string;
  rate: number;
  seconds: number;
  cpu: Parts;
  bench: number;
  wrong: number;
  duplicates: number;
  lost: number;
  signatures: string;
  load: number;
}

const sink = await new CountingSink().listen();
let tally = new Tally();
sink.onBody = (body, _at, headers) => tally.take(body, headers);

async function measure(name: string, durability: string, start: () => Promise<System>): Promise<Row> {
  tally = new Tally();
  const load1 = loadavg()[0] ?? 0;
  const system = await start();
  const agent = new Agent({ connections: IN_FLIGHT });
  const { load } = system;
  const warmRequests = Math.ceil(WARM / load.eventsPerRequest);
  const eventsOf = (requests: number) => requests * load.eventsPerRequest;
  const timeout = <T>(p: Promise<T>, what: string) =>
    Promise.race([
      p,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`${name}: ${what} not done in ${DRAIN_TIMEOUT_MS} ms`)),
          DRAIN_TIMEOUT_MS,
        ).unref(),
      ),
    ]);
  try {
    const base = sink.received;
    let wrong = await drive(system.base, load, 0, warmRequests, agent);
    await timeout(sink.until(base + eventsOf(warmRequests)), "warm-up");
    const before = await system.cpu();
    const benchBefore = process.cpuUsage();
    const window = { from: process.hrtime.bigint() / 1000n, to: 0n };
    const started = performance.now();
    wrong += await drive(system.base, load, warmRequests, load.bodies.length, agent);
    await timeout(sink.until(base + eventsOf(load.bodies.length)), "delivery");
    const seconds = (performance.now() - started) / 1000;
    window.to = process.hrtime.bigint() / 1000n;
    const after = await system.cpu();
    const bench = process.cpuUsage(benchBefore);
    if (values.profile) {
      writeFileSync(
        join(values.profile, "window.json"),
        JSON.stringify({ from: Number(window.from), to: Number(window.to), events: N, name }),
      );
    }
    // A moment for late duplicates (redeliveries) to arrive before counting them.
    await new Promise((r) => setTimeout(r, 500));
    const cpu: Parts = {};
    for (const k of Object.keys(after)) cpu[k] = (after[k] ?? 0) - (before[k] ?? 0);
    const measured = eventsOf(load.bodies.length - warmRequests);
    return {
      name,
      durability,
      rate: measured / seconds,
      seconds,
      cpu,
      bench: (bench.user + bench.system) / 1e6,
      wrong,
      duplicates: tally.received - tally.ids.size,
      lost: eventsOf(load.bodies.length) - tally.ids.size,
      signatures: tally.verify(system.secret),
      load: load1,
    };
  } finally {
    await agent.close();
    await system.stop();
  }
}

async function rawSystem(): Promise<System> {
  const url = new URL(sink.url());
  return {
    base: url.origin,
    load: buildLoad("raw", "raw"),
    secret: "",
    cpu: async () => ({}),
    stop: async () => {},
  };
}

async function hookgateSystem(kind: "events" | "batch" | "ingest"): Promise<System> {
  const redis: BenchRedis = await startBenchRedis();
  const env: Record<string, string> = {};
  if (values.profile) {
    mkdirSync(values.profile, { recursive: true });
    env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${resolve(values.profile)}`;
  }
  const gw = await GatewayProcess.start({ redisUrl: redis.url, token: TOKEN, env });
  const route = (await postJson(`${gw.url}/v1/routes`, TOKEN, {
    name: "peer",
    target: { url: sink.url() },
    filter: "export default (e) => e.type === 'messageNew'",
    map: "export default (e) => ({ id: e.id, subject: e.data.data.subject, from: e.data.data.from.address })",
  })) as { target: { signing: { secret: string } } };
  let load: Load;
  if (kind === "ingest") {
    const source = (await postJson(`${gw.url}/v1/sources`, TOKEN, {
      name: "bench",
      kind: "emailengine",
    })) as {
      id: string;
      secret: string;
    };
    load = buildLoad("ingest", `ingest-${Date.now()}`, { sourceId: source.id }, source.secret);
  } else {
    load = buildLoad(kind, `${kind}-${Date.now()}`);
  }
  const main = gw.pid ?? 0;
  return {
    base: gw.url,
    load,
    secret: route.target.signing.secret,
    cpu: async () => ({
      gateway: cpuSecondsOf(main),
      // Read each time: the sandbox child starts with the first walk (and is replaced when it dies).
      "sandbox child": processTree(main)
        .slice(1)
        .reduce((s, p) => s + (cpuSecondsOf(p) || 0), 0),
      Redis: cpuSecondsOf(redis.pid),
    }),
    async stop() {
      // SIGTERM first when profiling: the profile is written at a graceful exit.
      if (values.profile) await gw.stop();
      await gw.dispose();
      await redis.stop();
    },
  };
}

async function nodeRedSystem(atOnce: boolean): Promise<System> {
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const nr: NodeRedProcess = await startNodeRed({ sinkUrl: sink.url(), signingSecret: secret });
  const load = atOnce
    ? buildLoad("node-red", `nr202-${Date.now()}`, { path: NODE_RED_PATHS.atOnce, expect: "202" })
    : buildLoad("node-red", `nr200-${Date.now()}`, { path: NODE_RED_PATHS.afterDelivery, expect: "200" });
  const pids = processTree(nr.pid);
  return {
    base: new URL(nr.url("/")).origin,
    load,
    secret,
    cpu: async () => ({ "node-red": pids.reduce((s, p) => s + (cpuSecondsOf(p) || 0), 0) }),
    stop: () => nr.stop(),
  };
}

const DURABLE = "in Redis (AOF everysec) before the answer; retries";
const rows: { key: string; name: string; durability: string; start: () => Promise<System> }[] = [
  { key: "raw", name: "raw undici POST to the sink", durability: "—", start: rawSystem },
  {
    key: "hg-events",
    name: "Hookgate, one event per `POST /v1/events`",
    durability: DURABLE,
    start: () => hookgateSystem("events"),
  },
  {
    key: "hg-ingest",
    name: "Hookgate, one event per `POST /v1/ingest/:sourceId` (EmailEngine, signature checked)",
    durability: DURABLE,
    start: () => hookgateSystem("ingest"),
  },
  {
    key: "hg-batch",
    name: "Hookgate, 100 per `POST /v1/events`",
    durability: DURABLE,
    start: () => hookgateSystem("batch"),
  },
  {
    key: "nr-200",
    name: `Node-RED (http in → filter → map → sign → http request → 200)`,
    durability: "none: in memory, no retry",
    start: () => nodeRedSystem(false),
  },
  {
    key: "nr-202",
    name: "Node-RED, 202 at once, then the same flow",
    durability: "none: accepted before anything is done, in memory, no retry",
    start: () => nodeRedSystem(true),
  },
];
const only = values.only ? new Set(values.only.split(",")) : null;
const chosen = rows.filter((r) => !only || only.has(r.key));
if (chosen.some((r) => r.key.startsWith("nr-"))) ensureNodeRed();

const redisForInfo = await startBenchRedis({ appendonly: false });
console.log(`machine: ${await machine(redisForInfo.url)}`);
await redisForInfo.stop();
if (chosen.some((r) => r.key.startsWith("nr-"))) console.log(`node-red: ${installedNodeRedVersion()}`);
console.log(
  `events: ${N} measured after ${WARM} warm-up, ${IN_FLIGHT} requests in flight, 2 KB EmailEngine messageNew event\n`,
);

const results: Row[] = [];
for (const r of chosen) {
  try {
    const row = await measure(r.name, r.durability, r.start);
    results.push(row);
    console.log(
      `${r.key}: ${fmt(row.rate)} events/s in ${row.seconds.toFixed(1)} s (load ${row.load.toFixed(2)} at its start)`,
    );
  } catch (err) {
    console.log(`${r.key}: failed: ${(err as Error).message}`);
  }
}

const raw = results.find((r) => r.name === rows[0]?.name)?.rate ?? Number.NaN;
const us = (s: number) => fmt((s / N) * 1e6);
console.log(
  "\n| system | events/s (× raw) | CPU of the system per event, by part | sender + sink per event | duplicates / lost / wrong answers | signatures verified (sample) | durability |",
);
console.log("|---|---|---|---|---|---|---|");
for (const r of results) {
  const parts = Object.entries(r.cpu);
  const total = parts.reduce((s, [, v]) => s + v, 0);
  const cpu =
    parts.length === 0 ? "—" : `**${us(total)} µs** (${parts.map(([k, v]) => `${k} ${us(v)}`).join(", ")})`;
  console.log(
    `| ${r.name} | ${fmt(r.rate)} (${Number.isFinite(raw) ? `${(r.rate / raw).toFixed(2)}×` : "no raw row"}) | ${cpu} | ${us(r.bench)} µs | ${r.duplicates} / ${r.lost} / ${r.wrong} | ${r.signatures} | ${r.durability} |`,
  );
}
const best = (prefix: string) =>
  Math.max(...results.filter((r) => r.name.startsWith(prefix)).map((r) => r.rate));
const nodeRed = results.find((r) => r.name.startsWith("Node-RED ("))?.rate;
if (nodeRed && results.some((r) => r.name.startsWith("Hookgate, one")))
  console.log(
    `\nHookgate one event per request / Node-RED (after delivery): ${(best("Hookgate, one") / nodeRed).toFixed(2)}× (goal ≥ 3×)`,
  );
await sink.close();
process.exit(0);
