/*
 * Scale out, in one run on one machine: one API process (HOOKGATE_ROLE=api) and 1, 2 or 4
 * worker processes (HOOKGATE_ROLE=worker), all on one Redis, delivering through one route with
 * filter + map (isolated-vm, each worker's sandbox child) and Standard Webhooks signing to a
 * local sink. Events are posted in batches of 100 and timed until the sink has every one.
 * Beside events/s it prints where the CPU went during the run (each process with its children,
 * Redis, and this process: the sender and the sink), which is what says what limits it.
 *
 * Usage: node bench/scale-out.ts [--events 20000] [--workers 1,2,4] [--target-concurrency 16]
 */
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { GatewayProcess } from "../test/faults/gateway-process.ts";
import { startRedisServer } from "../test/helpers/redis-server.ts";
import {
  CountingSink,
  fmt,
  machine,
  machineBusySeconds,
  postJson,
  redisCpuSeconds,
  treeCpuSeconds,
} from "./harness.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    workers: { type: "string", default: "1,2,4" },
    "target-concurrency": { type: "string" },
  },
});
const EVENTS = Number(values.events);
const COUNTS = values.workers.split(",").map(Number);
/** The route's target.maxConcurrency (requests in flight per worker process); the default when absent. */
const TARGET_CONCURRENCY = values["target-concurrency"] ? Number(values["target-concurrency"]) : undefined;
const TOKEN = "bench-token-0123456789abcdef";

interface Figures {
  workers: number;
  eventsPerS: number;
  seconds: number;
  /** CPU seconds during the timed run. */
  cpu: { api: number; workers: number; redis: number; bench: number; others: number };
}

const body = (n: number) => ({
  type: "messageNew",
  data: {
    n,
    subject: `Invoice ${n}`,
    from: { address: "ada@example.com" },
    text: { plain: "x".repeat(1500) },
  },
});

async function measure(redisUrl: string, workers: number, sink: CountingSink): Promise<Figures> {
  const env = { HOOKGATE_KEY_PREFIX: `out${workers}` };
  const api = await GatewayProcess.start({ redisUrl, token: TOKEN, env: { ...env, HOOKGATE_ROLE: "api" } });
  const procs = await Promise.all(
    Array.from({ length: workers }, () =>
      GatewayProcess.start({ redisUrl, token: TOKEN, env: { ...env, HOOKGATE_ROLE: "worker" } }),
    ),
  );
  await postJson(`${api.url}/v1/routes`, TOKEN, {
    name: "bench",
    target: { url: sink.url(), ...(TARGET_CONCURRENCY ? { maxConcurrency: TARGET_CONCURRENCY } : {}) },
    filter: "export default (e) => e.type === 'messageNew'",
    map: "export default (e) => ({ id: e.id, subject: e.data.subject, from: e.data.from.address })",
  });
  const agent = new Agent({ connections: 8 });
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const post = async (from: number, size: number) => {
    const batch = Array.from({ length: size }, (_, k) => body(from + k));
    const res = await request(`${api.url}/v1/events`, {
      method: "POST",
      headers,
      body: JSON.stringify(batch),
      dispatcher: agent,
    });
    await res.body.dump();
    if (res.statusCode !== 202) throw new Error(`ingest ${res.statusCode}`);
  };
  // Warm every worker's sandbox and connections before timing.
  const base = sink.received;
  await post(0, 200);
  await sink.until(base + 200);

  const cpuOf = async () => ({
    api: treeCpuSeconds(api.pid ?? 0),
    workers: procs.reduce((s, p) => s + treeCpuSeconds(p.pid ?? 0), 0),
    redis: await redisCpuSeconds(redisUrl),
    bench: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    machine: machineBusySeconds(),
  });
  const before = await cpuOf();
  const started = performance.now();
  let sent = 0;
  const lane = async () => {
    while (sent < EVENTS) {
      const size = Math.min(100, EVENTS - sent);
      sent += size;
      await post(sent, size);
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  await sink.until(base + 200 + EVENTS);
  const seconds = (performance.now() - started) / 1000;
  const after = await cpuOf();
  await agent.close();
  await Promise.all([api.dispose(), ...procs.map((p) => p.dispose())]);
  const ours = (["api", "workers", "redis", "bench"] as const).reduce(
    (sum, k) => sum + after[k] - before[k],
    0,
  );
  return {
    workers,
    eventsPerS: EVENTS / seconds,
    seconds,
    cpu: {
      api: after.api - before.api,
      workers: after.workers - before.workers,
      redis: after.redis - before.redis,
      bench: after.bench - before.bench,
      others: Math.max(0, after.machine - before.machine - ours),
    },
  };
}

const redis = await startRedisServer({ appendonly: true });
const sink = await new CountingSink().listen();
const where = await machine(redis.url);
const results: Figures[] = [];
for (const n of COUNTS) results.push(await measure(redis.url, n, sink));
await sink.close();
await redis.stop();

const first = results[0];
console.log(`machine: ${where}`);
console.log(
  `${EVENTS} events through 1 API process + N worker processes on one Redis (AOF), one target ` +
    `(maxConcurrency ${TARGET_CONCURRENCY ?? "default"} per process); cores busy = CPU s / wall s`,
);
console.log(
  `${"workers".padEnd(9)}${"events/s".padStart(10)}${"vs 1".padStart(7)}${"cores busy".padStart(12)}` +
    `${"workers".padStart(10)}${"api".padStart(7)}${"redis".padStart(8)}${"sender+sink".padStart(13)}` +
    `${"others".padStart(9)}   (CPU s; others: processes not of this run)`,
);
for (const r of results) {
  const total = r.cpu.api + r.cpu.workers + r.cpu.redis + r.cpu.bench;
  console.log(
    `${String(r.workers).padEnd(9)}${fmt(r.eventsPerS).padStart(10)}${`${fmt(r.eventsPerS / (first?.eventsPerS ?? 1), 2)}×`.padStart(7)}` +
      `${fmt(total / r.seconds, 2).padStart(12)}${fmt(r.cpu.workers, 1).padStart(10)}${fmt(r.cpu.api, 1).padStart(7)}` +
      `${fmt(r.cpu.redis, 1).padStart(8)}${fmt(r.cpu.bench, 1).padStart(13)}${fmt(r.cpu.others, 1).padStart(9)}`,
  );
}
// What limits the run with the most workers: the cores (ours and anyone else's), Redis's one
// thread, or neither (the processes wait on one another: round trips, lanes, timers).
const last = results.at(-1);
if (last) {
  const cores = cpus().length;
  const ours = (last.cpu.api + last.cpu.workers + last.cpu.redis + last.cpu.bench) / last.seconds;
  const others = last.cpu.others / last.seconds;
  const redisShare = last.cpu.redis / last.seconds;
  const why =
    ours + others > cores * 0.85
      ? `CPU: the ${cores} cores are ${fmt(((ours + others) / cores) * 100)}% busy (${fmt(ours, 2)} cores this run's ` +
        `processes, ${fmt(others, 2)} others), so more worker processes only share the same cores`
      : redisShare > 0.85
        ? `Redis, single-threaded, busy ${fmt(redisShare * 100)}% of the time`
        : `neither the cores (${fmt(ours + others, 2)} of ${cores} busy) nor Redis (${fmt(redisShare, 2)}): ` +
          "the processes wait on one another (round trips, per-target lanes, timers)";
  console.log(`limit with ${last.workers} workers: ${why}.`);
}
process.exit(0);
