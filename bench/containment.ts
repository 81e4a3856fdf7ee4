/*
 * The gateway's responsiveness while hostile routes run (issue 16: "the main thread stays
 * responsive while any of them runs"): /healthz latency of a real gateway process (its own
 * process, as `npm start` runs it) polled every 5 ms while each attack class runs, first through
 * the dry-run (every attack of the class as an unsaved route, all at once), then through real
 * delivery (each as a saved route taking the class's events, next to a healthy sibling route that
 * must deliver every one of them). A class ends when the sibling has every event and every
 * attack route has a delivery record for each; its routes are then deleted.
 *
 * Classes: the sections of the sandbox corpus (test/sandbox/attacks.ts, read from its
 * `// ---- title ----` headers), and the host-side ones of test/e2e/containment.test.ts: the
 * quadratic template helper, backtracking-prone globs against unauthenticated ingest, and
 * deeply nested JSON bodies. An idle row (no attack) comes first, for the machine's own noise.
 * The poller runs in this process with the sink and the sender, so their work is in the figures.
 *
 * Usage: node bench/containment.ts [--events 3] [--only <substring of a class title>]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { apiClient, GatewayProcess } from "../test/faults/gateway-process.ts";
import { startRedisServer } from "../test/helpers/redis-server.ts";
import { type Attack, attacks } from "../test/sandbox/attacks.ts";
import { CountingSink, fmt, machine, percentile } from "./harness.ts";

const { values } = parseArgs({
  options: { events: { type: "string", default: "3" }, only: { type: "string" } },
});
const EVENTS = Number(values.events);
const TOKEN = "bench-token-0123456789abcdef";
const POLL_MS = 5;

/** The corpus by its section titles (the order of names in the file gives each its section). */
function corpusClasses(): Map<string, Attack[]> {
  const text = readFileSync(new URL("../test/sandbox/attacks.ts", import.meta.url), "utf8");
  const byName = new Map(attacks.map((a) => [a.name, a]));
  const classes = new Map<string, Attack[]>();
  let title = "(before the first section)";
  for (const line of text.split("\n")) {
    const header = /^\s*\/\/ ---- (.+?) -{3,}\s*$/.exec(line);
    if (header) title = header[1] as string;
    const name = /^\s*name:\s*("(?:[^"\\]|\\.)*")/.exec(line);
    const attack = name ? byName.get(JSON.parse(name[1] as string) as string) : undefined;
    if (attack === undefined) continue;
    const list = classes.get(title) ?? [];
    list.push(attack);
    classes.set(title, list);
  }
  return classes;
}

/** /healthz answered over and over, one request at a time, a new one every POLL_MS. */
function pollHealth(url: string): { stop: () => Promise<number[]> } {
  const agent = new Agent({ connections: 1 });
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const res = await request(`${url}/healthz`, { dispatcher: agent });
      await res.body.dump();
      const took = performance.now() - started;
      if (res.statusCode !== 200) throw new Error(`/healthz answered ${res.statusCode}`);
      latencies.push(took);
      if (took < POLL_MS) await new Promise((r) => setTimeout(r, POLL_MS - took));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await agent.close();
      return latencies.sort((a, b) => a - b);
    },
  };
}

const redis = await startRedisServer({ appendonly: true });
const sink = await new CountingSink().listen();
const where = await machine(redis.url);
const gw = await GatewayProcess.start({
  redisUrl: redis.url,
  token: TOKEN,
  // The e2e corpus test's limits.
  env: { HOOKGATE_FUNCTION_TIMEOUT_MS: "1000", HOOKGATE_FUNCTION_MEMORY_MB: "32" },
});
const call = apiClient(gw.url, TOKEN);

async function api(method: string, path: string, body?: unknown, expect?: number) {
  const res = await call(method, path, body);
  if (expect !== undefined && res.status !== expect)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
  return res;
}

async function rawPost(path: string, body: string, token = true) {
  const res = await request(`${gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${TOKEN}` } : {}) },
    body,
  });
  await res.body.dump();
  return res.statusCode;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Until `check` is true (polling the API: the attacks settle in seconds). */
async function until(check: () => Promise<boolean>, what: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const baseEvent = (type: string, id: string) => ({
  id,
  type,
  account: "acme",
  data: { subject: "Invoice 42", from: { name: "Ada", address: "ada@example.com" } },
});

/** Every attack of a class, dry-run at once, then as saved routes taking EVENTS real events. */
async function runCorpusClass(tag: string, list: Attack[]): Promise<void> {
  await Promise.all(
    list.map((a) =>
      api("POST", "/v1/dry-run", {
        event: baseEvent("messageNew", `${tag}-dry`),
        route: { name: a.name, target: { url: sink.url() }, [a.kind]: a.source },
      }),
    ),
  );
  const sibling = await api(
    "POST",
    "/v1/routes",
    { name: `${tag} sibling`, events: [tag], target: { url: sink.url("/sibling") } },
    201,
  );
  const ids: string[] = [sibling.json.id];
  for (const a of list) {
    const res = await api("POST", "/v1/routes", {
      name: a.name,
      events: [tag],
      [a.kind]: a.source,
      target: { url: sink.url("/attack") },
      retry: { scheduleMs: [] },
    });
    if (res.status === 201) ids.push(res.json.id); // a syntax attack is refused at save
  }
  const base = sink.received;
  for (let i = 0; i < EVENTS; i++) await api("POST", "/v1/events", baseEvent(tag, `${tag}-${i}`), 202);
  // The sibling delivers each event (it may come with attack routes that succeed: count records).
  await until(async () => {
    const { json } = await api("GET", `/v1/deliveries?routeId=${ids[0]}&limit=500`);
    return json.deliveries.filter((d: { status: string }) => d.status === "succeeded").length >= EVENTS;
  }, `${tag}: the sibling's deliveries`);
  await until(async () => {
    for (const id of ids.slice(1)) {
      const { json } = await api("GET", `/v1/deliveries?routeId=${id}&limit=500`);
      const done = json.deliveries.filter(
        (d: { status: string }) => d.status !== "pending" && d.status !== "retrying",
      );
      if (done.length < EVENTS) return false;
    }
    return true;
  }, `${tag}: every attack route's records`);
  if (sink.received < base + EVENTS) throw new Error(`${tag}: the sink is missing the sibling's requests`);
  for (const id of ids) await api("DELETE", `/v1/routes/${id}`);
}

/** A sibling route on `type` that must deliver `count` events (the sentinel of a host class). */
async function withSibling(tag: string, type: string, count: number, run: () => Promise<void>) {
  const sibling = await api(
    "POST",
    "/v1/routes",
    { name: `${tag} sibling`, events: [type], target: { url: sink.url("/sibling") } },
    201,
  );
  await run();
  await until(async () => {
    const { json } = await api("GET", `/v1/deliveries?routeId=${sibling.json.id}&limit=500`);
    return json.deliveries.filter((d: { status: string }) => d.status === "succeeded").length >= count;
  }, `${tag}: the sibling's deliveries`);
  await api("DELETE", `/v1/routes/${sibling.json.id}`);
}

const hostClasses: Array<[string, (tag: string) => Promise<void>]> = [
  [
    "template: helper work without output (issue 16 item 4)",
    async (tag) => {
      const template = { kind: "text", body: "{{#each data.x}}{{join @root.data.x '' key='k'}}{{/each}}" };
      const event = { type: tag, data: { x: Array.from({ length: 10_000 }, () => ({})) } };
      const route = await api(
        "POST",
        "/v1/routes",
        { name: `${tag} quadratic`, events: [tag], template, target: { url: sink.url("/attack") } },
        201,
      );
      await withSibling(tag, tag, EVENTS, async () => {
        await api("POST", "/v1/dry-run", { routeId: route.json.id, event }, 200);
        for (let i = 0; i < EVENTS; i++) await api("POST", "/v1/events", event, 202);
      });
      await api("DELETE", `/v1/routes/${route.json.id}`);
    },
  ],
  [
    "globs: backtracking-prone patterns, unauthenticated ingest (issue 16 item 2)",
    async (tag) => {
      const route = await api(
        "POST",
        "/v1/routes",
        {
          name: `${tag} globs`,
          events: ["a*a*a*a*a*a*b", `${"a*".repeat(20)}b`, tag],
          target: { url: sink.url("/attack") },
        },
        201,
      );
      const source = await api("POST", "/v1/sources", { name: `${tag} source`, kind: "generic" }, 201);
      await withSibling(tag, tag, EVENTS, async () => {
        for (let i = 0; i < EVENTS; i++) {
          for (const n of [100, 200, 1000]) {
            const status = await rawPost(
              `/v1/ingest/${source.json.id}`,
              JSON.stringify({ type: "a".repeat(n), data: {} }),
              false,
            );
            if (status !== 200) throw new Error(`ingest answered ${status}`);
          }
          await api("POST", "/v1/events", { type: tag, data: { i } }, 202);
        }
      });
      await api("DELETE", `/v1/routes/${route.json.id}`);
      await api("DELETE", `/v1/sources/${source.json.id}`);
    },
  ],
  [
    "deep JSON: 100k levels on /v1/events and /v1/dry-run, 5k on ingest (issue 16 item 5)",
    async (tag) => {
      const arrays = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
      const inEvent = (levels: number) => `{"type":"${tag}","data":{"x":${arrays(levels)}}}`;
      const source = await api("POST", "/v1/sources", { name: `${tag} source`, kind: "generic" }, 201);
      await withSibling(tag, tag, EVENTS, async () => {
        for (let i = 0; i < EVENTS; i++) {
          const answers = [
            await rawPost("/v1/events", inEvent(100_000)),
            await rawPost(
              "/v1/dry-run",
              `{"route":{"name":"d","target":{"url":"${sink.url()}"}},"event":${inEvent(100_000)}}`,
            ),
            await rawPost(`/v1/ingest/${source.json.id}`, inEvent(5_000), false),
          ];
          if (answers.some((s) => s !== 400)) throw new Error(`deep JSON answered ${answers.join(", ")}`);
          await api("POST", "/v1/events", { type: tag, data: { i } }, 202);
        }
      });
      await api("DELETE", `/v1/sources/${source.json.id}`);
    },
  ],
];

interface Row {
  title: string;
  attacks: number;
  seconds: number;
  latencies: number[];
}
const rows: Row[] = [];
async function measure(title: string, count: number, run: () => Promise<void>): Promise<void> {
  if (values.only !== undefined && title !== "idle" && !title.includes(values.only)) return;
  const poll = pollHealth(gw.url);
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const latencies = await poll.stop();
  rows.push({ title, attacks: count, seconds, latencies });
  const r = rows[rows.length - 1] as Row;
  process.stderr.write(
    `${title}: ${fmt(r.seconds, 1)} s, max ${fmt(r.latencies.at(-1) ?? Number.NaN, 1)} ms\n`,
  );
}

try {
  await measure("idle", 0, () => sleep(3000));
  let n = 0;
  for (const [title, list] of corpusClasses()) {
    const tag = `class${++n}`;
    await measure(title, list.length, () => runCorpusClass(tag, list));
  }
  for (const [title, run] of hostClasses) {
    const tag = `host${++n}`;
    await measure(title, 1, () => run(tag));
  }
} finally {
  await gw.dispose();
  await sink.close();
  await redis.stop();
}

console.log(`machine: ${where}`);
console.log(
  `/healthz of the gateway process polled every ${POLL_MS} ms while each class runs (dry-run, then ${EVENTS} events ` +
    "through saved routes beside a sibling that delivers them all); latency in ms",
);
const head = `${"class".padEnd(84)}${"attacks".padStart(8)}${"run s".padStart(8)}${"polls".padStart(7)}${"p50".padStart(8)}${"p99".padStart(8)}${"max".padStart(9)}`;
console.log(head);
for (const r of rows) {
  console.log(
    `${r.title.slice(0, 83).padEnd(84)}${String(r.attacks).padStart(8)}${fmt(r.seconds, 1).padStart(8)}` +
      `${String(r.latencies.length).padStart(7)}${fmt(percentile(r.latencies, 50), 2).padStart(8)}` +
      `${fmt(percentile(r.latencies, 99), 2).padStart(8)}${fmt(r.latencies.at(-1) ?? Number.NaN, 1).padStart(9)}`,
  );
}
process.exit(0);
