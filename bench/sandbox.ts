/**
 * Cost of running a route's filter + map in the sandbox, warm, on ~2 KB events, against the same
 * functions run natively in the host on the same events (JSON-decoded), in one run; then the
 * memory that many live route isolates take.
 *
 *   node bench/sandbox.ts [events] [isolate counts, comma-separated]
 *   node bench/sandbox.ts 20000 1000,10000
 *
 * Speed (µs/event, each over the same N distinct events, held as JSON like the walker holds
 * them after reading the stream):
 * - native: for each event, JSON.parse for the filter, filter, JSON.parse for the map, map,
 *   JSON.stringify of the output: each function gets its own JSON-decoded event, minus the
 *   isolation. The ratios are against this.
 * - native, copying: the same, but the map's event is a deep copy of the filter's made before
 *   the filter runs, which is how the sandbox now gets it (a third of the cost of a parse; see
 *   isolate-runtime.ts): printed as a second ratio, so that the gain of that copy is not
 *   mistaken for a gain of the isolation.
 * - sandboxed, one at a time: `await runRoute(fns, event, json)` for each event in turn.
 * - sandboxed, one at a time, serialising: the same without the JSON (runRoute stringifies).
 * - sandboxed, 64 in flight: 64 events at once, as the walker does under load (calls for one
 *   route arriving in the same tick cross into its isolate together).
 * Each sandboxed figure is measured in both modes: `inline` (isolates in this process) and
 * `process` (isolates in the sandbox child process, the gateway's default: calls of a tick cross
 * the child's stream in a few writes, each carrying the event's JSON as it is, the route's sources
 * having crossed once; the child runs the calls it reads together per route and sends back each
 * isolate's envelope as it wrote it; see protocol.ts).
 *
 * Memory: for each count R, R distinct route keys (a small filter + map each) are built and run
 * once, in a fresh process per configuration: with maxIsolates = R (all alive), with the
 * Sandbox's default cap of 1000 and with the gateway's default HOOKGATE_MAX_ISOLATES of 200 (LRU
 * eviction keeps the rest out). Reports RSS, the host heap and isolated-vm's heap statistics
 * summed over the live isolates. Configurations of more than HOOKGATE_BENCH_LIVE_LIMIT (4000)
 * live isolates are skipped: at ~2.5 MB of RSS each, 10,000 live isolates need ~25 GB.
 *
 * Churn (`node bench/sandbox.ts 1000 --churn 1,150,1000 [--max-isolates 200]`): N events spread
 * over R distinct routes through the sandbox process, one warm route against 150 and 1,000 cold
 * ones, with each figure's ratio to the previous, the sandbox process's CPU seconds (per route
 * built: the cost that wall time on a shared machine hides) and its RSS (issue 16, item 9).
 */
import type { HookgateEvent } from "../src/events/event-schema.ts";
import { Sandbox } from "../src/sandbox/index.ts";

const N = Number(process.argv[2] ?? 20000);
const ISOLATE_COUNTS = (process.argv[3] ?? "1000,10000")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
/** Configurations with more live isolates than this are skipped (memory: ~2.5 MB RSS each). */
const LIVE_LIMIT = Number(process.env.HOOKGATE_BENCH_LIVE_LIMIT ?? 4000);

const FILTER = `export default (event) =>
  event.type === "messageNew" && event.data.subject.toLowerCase().includes("invoice");`;
const MAP = `export default (event) => ({
  id: event.id,
  subject: event.data.subject,
  from: event.data.from.address,
  to: event.data.to.map((t) => t.address),
  attachments: event.data.attachments.map((a) => a.filename),
  preview: event.data.text.slice(0, 200),
});`;

const makeEvent = (i: number): HookgateEvent => ({
  id: `evt_01JBENCH${String(i).padStart(17, "0")}`,
  type: "messageNew",
  source: "emailengine",
  account: "support",
  occurredAt: "2025-01-01T10:00:00.000Z",
  receivedAt: "2025-01-01T10:00:00.120Z",
  data: {
    subject: `Invoice ${1000 + (i % 9000)} for December`,
    from: { name: "Ada Lovelace", address: "ada@example.com" },
    to: [
      { name: "Support", address: "support@example.com" },
      { name: "Billing", address: "billing@example.com" },
    ],
    messageId: `<${i}.0123456789abcdef@example.com>`,
    headers: { "x-mailer": "bench", "content-type": "multipart/mixed" },
    attachments: [
      { id: "att1", filename: "invoice-1043.pdf", contentType: "application/pdf", size: 48213 },
      { id: "att2", filename: "terms.txt", contentType: "text/plain", size: 1211 },
    ],
    text: "Hello, ".repeat(200),
  },
});
const events = Array.from({ length: N }, (_, i) => makeEvent(i));
const jsons = events.map((e) => JSON.stringify(e));

const f = (n: number) => n.toFixed(2).padStart(8);
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0).padStart(6)} MB`;

// ---- native ----------------------------------------------------------------------------------
type Fn = (e: unknown) => unknown;
const load = async (src: string): Promise<Fn> =>
  ((await import(`data:text/javascript,${encodeURIComponent(src)}`)) as { default: Fn }).default;
const filter = await load(FILTER);
const map = await load(MAP);
let checksum = 0;
const native = (json: string): void => {
  if (filter(JSON.parse(json))) checksum += JSON.stringify(map(JSON.parse(json))).length;
};
/** The deep copy of a JSON value that isolate-runtime.ts's copyOf makes for the map. */
const copyOf = (v: unknown): unknown => {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return v.map(copyOf);
  const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  for (const k of Object.keys(out)) if (typeof out[k] === "object") out[k] = copyOf(out[k]);
  return out;
};
const nativeCopying = (json: string): void => {
  const event = JSON.parse(json);
  const forMap = copyOf(event);
  if (filter(event)) checksum += JSON.stringify(map(forMap)).length;
};
const timeNative = (run = native): number => {
  const t = performance.now();
  for (const json of jsons) run(json);
  return ((performance.now() - t) * 1000) / N;
};

// ---- sandboxed -------------------------------------------------------------------------------
const sandboxes = {
  inline: new Sandbox({ mode: "inline", timeoutMs: 1000, memoryLimitMb: 64 }),
  process: new Sandbox({ mode: "process", timeoutMs: 1000, memoryLimitMb: 64 }),
};
type Mode = keyof typeof sandboxes;
const MODES: Mode[] = ["inline", "process"];
const fns = { key: "bench@1", filter: FILTER, map: MAP };
const check = (run: Awaited<ReturnType<Sandbox["runRoute"]>>): void => {
  if (!run.filter?.ok || run.filter.value !== true || !run.map?.ok) throw new Error(JSON.stringify(run));
};
const timeSequential = async (mode: Mode, withJson: boolean): Promise<number> => {
  const sandbox = sandboxes[mode];
  const t = performance.now();
  for (let i = 0; i < N; i++) {
    check(await sandbox.runRoute(fns, events[i] as HookgateEvent, withJson ? jsons[i] : undefined));
  }
  return ((performance.now() - t) * 1000) / N;
};
const inFlight = 64;
const timePipelined = async (mode: Mode): Promise<number> => {
  const sandbox = sandboxes[mode];
  const t = performance.now();
  for (let i = 0; i < N; i += inFlight) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + inFlight); j++) {
      batch.push(sandbox.runRoute(fns, events[j] as HookgateEvent, jsons[j]));
    }
    for (const run of await Promise.all(batch)) check(run);
  }
  return ((performance.now() - t) * 1000) / N;
};

// The walker's way: up to `lanes` calls always in flight, a new one started as soon as one ends
// (rather than waiting for a whole batch, which leaves the child idle at each batch's tail).
const lanes = 256;
const timeContinuous = async (mode: Mode): Promise<number> => {
  const sandbox = sandboxes[mode];
  const t = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < N) {
      const i = next++;
      check(await sandbox.runRoute(fns, events[i] as HookgateEvent, jsons[i]));
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return ((performance.now() - t) * 1000) / N;
};

async function speed(): Promise<void> {
  // Warm up (compile, JIT, the host-thread fast path) and check it works; then measure each mode
  // three times, interleaved, and keep the best (the least disturbed) of each.
  for (let round = 0; round < 2; round++) {
    timeNative();
    timeNative(nativeCopying);
    for (const mode of MODES) {
      await timeSequential(mode, true);
      await timePipelined(mode);
      await timeContinuous(mode);
    }
  }
  let native = Infinity;
  let copying = Infinity;
  const best = Object.fromEntries(
    MODES.map((m) => [
      m,
      { sequential: Infinity, serialising: Infinity, pipelined: Infinity, continuous: Infinity },
    ]),
  ) as Record<Mode, { sequential: number; serialising: number; pipelined: number; continuous: number }>;
  for (let round = 0; round < 3; round++) {
    native = Math.min(native, timeNative());
    copying = Math.min(copying, timeNative(nativeCopying));
    for (const mode of MODES) {
      const b = best[mode];
      b.sequential = Math.min(b.sequential, await timeSequential(mode, true));
      b.serialising = Math.min(b.serialising, await timeSequential(mode, false));
      b.pipelined = Math.min(b.pipelined, await timePipelined(mode));
      b.continuous = Math.min(b.continuous, await timeContinuous(mode));
    }
  }
  for (const mode of MODES) sandboxes[mode].dispose();

  const ratio = (us: number) =>
    `${(us / native).toFixed(2)}x native; ${(us / copying).toFixed(2)}x native, copying`;
  const line = (label: string, us: number) =>
    console.log(`${label.padEnd(46)}: ${f(us)} µs/event  (${ratio(us)})`);
  console.log(`events of ~${jsons[0]?.length} bytes of JSON, ${N} distinct events, node ${process.version}`);
  console.log(`${"native (same functions)".padEnd(46)}: ${f(native)} µs/event  (checksum ${checksum % 997})`);
  console.log(`${"native, copying the map's event".padEnd(46)}: ${f(copying)} µs/event`);
  for (const mode of MODES) {
    line(`sandboxed (${mode}), one at a time`, best[mode].sequential);
    line(`sandboxed (${mode}), one at a time, serialising`, best[mode].serialising);
    line(`sandboxed (${mode}), ${inFlight} in flight`, best[mode].pipelined);
    line(`sandboxed (${mode}), ${lanes} lanes`, best[mode].continuous);
  }
}

// ---- memory with many live isolates ---------------------------------------------------------
// Each configuration runs in a fresh process (`--memory routes maxIsolates`), so that RSS is not
// inflated by what an earlier one left in the allocator.
async function memory(routes: number, maxIsolates: number): Promise<void> {
  const pool = new Sandbox({ timeoutMs: 1000, memoryLimitMb: 64, maxIsolates });
  const event = makeEvent(0);
  const json = JSON.stringify(event);
  const before = process.memoryUsage();
  const t = performance.now();
  for (let i = 0; i < routes; i += 50) {
    const wave = [];
    for (let j = i; j < Math.min(routes, i + 50); j++) {
      // Small, distinct functions: a different constant per route.
      const key = `route-${j}@1`;
      const filter = `export default (e) => e.data.subject.length > ${j % 7}`;
      const map = `export default (e) => ({ id: e.id, n: ${j} })`;
      wave.push(pool.runRoute({ key, filter, map }, event, json));
    }
    for (const run of await Promise.all(wave)) check(run);
  }
  const buildMs = performance.now() - t;
  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  const heap = pool.heapStatistics();
  const perIsolate = (bytes: number) => `${(bytes / Math.max(1, heap.isolates) / 1024).toFixed(0)} KB`;
  console.log(
    `${String(routes).padStart(6)} routes, maxIsolates ${String(maxIsolates).padStart(6)}: ` +
      `${String(heap.isolates).padStart(6)} live isolates | RSS ${mb(mem.rss)} (${mb(mem.rss - before.rss)} over the empty pool) | ` +
      `host heap ${mb(mem.heapUsed)} | isolates' heaps: used ${mb(heap.usedHeapBytes)}, allocated ${mb(heap.totalHeapBytes)} ` +
      `(${perIsolate(heap.usedHeapBytes)} used, ${perIsolate(heap.totalHeapBytes)} allocated per isolate) | ` +
      `${((buildMs * 1000) / routes).toFixed(0)} µs per route built and run once`,
  );
  pool.dispose();
}

// ---- isolate churn: many distinct routes in the sandbox process -------------------------------
// 1,000 events spread evenly over R routes (event i to route i mod R), each route its own filter
// and map, 256 calls in flight as the walker keeps them, through the gateway's sandbox (process
// mode, HOOKGATE_MAX_ISOLATES' default of 200 unless --max-isolates says otherwise). R = 1 is
// one warm route (built before the clock starts); the others start cold, as when a gateway meets
// that many routes. Each figure is from a fresh sandbox process; its RSS is read after the run.
const churnRoute = (r: number): { key: string; filter: string; map: string } => ({
  key: `churn-${r}@1`,
  filter: `export default (e) => e.type === "messageNew" && e.data.subject.length > ${r % 7}`,
  map: `export default (e) => ({ id: e.id, route: ${r}, subject: e.data.subject })`,
});
async function churnOnce(routes: number, maxIsolates: number, total: number) {
  const { cpuSecondsOf, rssMbOf } = await import("./harness.ts");
  const pool = new Sandbox({ mode: "process", timeoutMs: 1000, memoryLimitMb: 64, maxIsolates });
  // The child is started (and, for one route, its isolate built) before the clock starts.
  check(await pool.runRoute(routes === 1 ? churnRoute(0) : churnRoute(-1), events[0] as HookgateEvent));
  const pid = pool.childPid() ?? 0;
  const cpu0 = cpuSecondsOf(pid);
  const t = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < total) {
      const i = next++;
      const e = i % N;
      check(await pool.runRoute(churnRoute(i % routes), events[e] as HookgateEvent, jsons[e]));
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const ms = performance.now() - t;
  const cpu = cpuSecondsOf(pid) - cpu0;
  const rss = rssMbOf(pid);
  const live = pool.stats().isolates;
  pool.dispose();
  return { ms, cpu, rss, live };
}
async function churn(counts: number[], maxIsolates: number, total: number): Promise<void> {
  console.log(
    `isolate churn: ${total} events over R routes (event i to route i mod R), ${lanes} in flight, ` +
      `process mode, maxIsolates ${maxIsolates}, node ${process.version}`,
  );
  const figures = new Map<number, number>();
  for (const routes of counts) {
    const { ms, cpu, rss, live } = await churnOnce(routes, maxIsolates, total);
    figures.set(routes, ms);
    // Each figure against the previous count's (150 routes against one warm route, 1,000 against 150).
    const previous = counts[counts.indexOf(routes) - 1];
    const base = previous === undefined ? undefined : figures.get(previous);
    console.log(
      `${String(routes).padStart(6)} route${routes === 1 ? " (warm)" : "s (cold)"}: ${(ms / 1000).toFixed(2).padStart(7)} s, ` +
        `${((ms * 1000) / total).toFixed(0).padStart(6)} µs/event` +
        `${base === undefined ? "" : ` (${(ms / base).toFixed(2)}x ${previous} route${previous === 1 ? "" : "s"})`} | ` +
        `sandbox process: ${cpu.toFixed(2)} CPU s${routes === 1 ? "" : ` (${((cpu * 1000) / routes).toFixed(1)} ms per route built and run)`}, ` +
        `RSS ${rss.toFixed(0)} MB, ${live} live isolates`,
    );
  }
}

const memoryArg = process.argv.indexOf("--memory");
const churnArg = process.argv.indexOf("--churn");
const maxArg = process.argv.indexOf("--max-isolates");
if (churnArg !== -1) {
  // node bench/sandbox.ts 1000 --churn 1,150,1000 [--max-isolates 200]
  const counts = (process.argv[churnArg + 1] ?? "1,150,1000").split(",").map(Number);
  await churn(counts, maxArg === -1 ? 200 : Number(process.argv[maxArg + 1]), N);
} else if (memoryArg !== -1) {
  await memory(Number(process.argv[memoryArg + 1]), Number(process.argv[memoryArg + 2]));
} else {
  await speed();
  const { spawnSync } = await import("node:child_process");
  for (const routes of ISOLATE_COUNTS) {
    // All alive (maxIsolates = routes), then the Sandbox's default cap and the gateway's default.
    for (const max of [...new Set([routes, 1000, 200])].filter((m) => m <= routes)) {
      if (max > LIVE_LIMIT) {
        console.log(
          `${String(routes).padStart(6)} routes, maxIsolates ${String(max).padStart(6)}: skipped (over ${LIVE_LIMIT} live isolates; ` +
            "set HOOKGATE_BENCH_LIVE_LIMIT to try, at roughly 2.5 MB of RSS per live isolate)",
        );
        continue;
      }
      const child = spawnSync(
        process.execPath,
        ["--expose-gc", import.meta.filename, "1", "--memory", String(routes), String(max)],
        { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" },
      );
      process.stdout.write(child.stdout);
    }
  }
}
