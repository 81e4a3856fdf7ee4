/*
 * End-to-end throughput, in one run on one machine:
 *   baseline: raw undici POSTs (64 in flight) from this process to a sink in this process;
 *   hookgate: POST /v1/events (batches of 100) from this process to the gateway (its own
 *             process, as `npm start` runs it) → walk (filter + map in isolated-vm) → Standard
 *             Webhooks signed POST to the same sink, timed until the sink has every event.
 * Prints events/s for both, the ratio, and the CPU seconds each part used (on a machine with
 * few cores the parts share them, and that is usually the limit).
 * Usage: npm run bench:e2e [-- --events 20000] [-- --direct off]
 */
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { GatewayProcess } from "../test/faults/gateway-process.ts";
import { startRedisServer } from "../test/helpers/redis-server.ts";
import {
  CountingSink,
  cpuSecondsOf,
  fmt,
  machine,
  postJson,
  processTree,
  redisCpuSeconds,
} from "./harness.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    direct: { type: "string", default: "on" },
  },
});
const N = Number(values.events);
const TOKEN = "bench-token-0123456789abcdef";

const event = {
  type: "messageNew",
  data: { subject: "Invoice 1043", from: { address: "ada@example.com" }, text: { plain: "x".repeat(1500) } },
};
const body = JSON.stringify({ id: "evt_bench", ...event });

async function baseline(sink: CountingSink): Promise<number> {
  const agent = new Agent({ connections: 64 });
  const url = sink.url();
  const base = sink.received;
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next++ < N) {
      const res = await request(url, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
        dispatcher: agent,
      });
      await res.body.dump();
    }
  };
  await Promise.all(Array.from({ length: 64 }, lane));
  await sink.until(base + N);
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return N / seconds;
}

interface Figures {
  rate: number;
  acceptRate: number;
  cpu: { gateway: number; sandbox: number; redis: number; bench: number };
}

async function hookgate(sink: CountingSink, redisUrl: string): Promise<Figures> {
  const gw = await GatewayProcess.start({
    redisUrl,
    token: TOKEN,
    env: { HOOKGATE_DIRECT_ATTEMPTS: values.direct === "off" ? "off" : "on" },
  });
  await postJson(`${gw.url}/v1/routes`, TOKEN, {
    name: "bench",
    target: { url: sink.url() },
    filter: "export default (e) => e.type === 'messageNew'",
    map: "export default (e) => ({ id: e.id, subject: e.data.subject, from: e.data.from.address })",
  });
  const agent = new Agent({ connections: 8 });
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const post = async (size: number) => {
    const res = await request(`${gw.url}/v1/events`, {
      method: "POST",
      headers,
      body: JSON.stringify(Array.from({ length: size }, () => event)),
      dispatcher: agent,
    });
    await res.body.dump();
    if (res.statusCode !== 202) throw new Error(`ingest ${res.statusCode}`);
  };
  // Warm the sandbox, the connections and the JIT before timing.
  const warm = sink.received;
  await post(200);
  await sink.until(warm + 200);

  const [main, child] = processTree(gw.pid ?? 0);
  const cpu = async () => ({
    gateway: cpuSecondsOf(main ?? 0),
    sandbox: child ? cpuSecondsOf(child) : 0,
    redis: await redisCpuSeconds(redisUrl),
    bench: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  });
  const before = await cpu();
  const base = sink.received;
  const started = performance.now();
  let sent = 0;
  const lane = async () => {
    while (sent < N) {
      const size = Math.min(100, N - sent);
      sent += size;
      await post(size);
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  const acceptSeconds = (performance.now() - started) / 1000;
  await sink.until(base + N);
  const seconds = (performance.now() - started) / 1000;
  const after = await cpu();
  await agent.close();
  await gw.dispose();
  return {
    rate: N / seconds,
    acceptRate: N / acceptSeconds,
    cpu: {
      gateway: after.gateway - before.gateway,
      sandbox: after.sandbox - before.sandbox,
      redis: after.redis - before.redis,
      bench: after.bench - before.bench,
    },
  };
}

const sink = await new CountingSink().listen();
const redis = await startRedisServer({ appendonly: true });
console.log(`machine: ${await machine(redis.url)}`);
const raw = await baseline(sink);
const gw = await hookgate(sink, redis.url);
const perEvent = (s: number) => `${fmt((s / N) * 1e6)} µs/event`;
console.log(`events: ${N} (2 KB payload), direct first attempts ${values.direct}`);
console.log(`raw undici POST to sink:      ${fmt(raw)} req/s`);
console.log(`hookgate ingest accepted:     ${fmt(gw.acceptRate)} events/s`);
console.log(`hookgate end to end:          ${fmt(gw.rate)} events/s`);
console.log(`ratio end to end / raw:       ${(gw.rate / raw).toFixed(2)}`);
console.log(
  `CPU during the hookgate run: gateway ${gw.cpu.gateway.toFixed(2)} s (${perEvent(gw.cpu.gateway)}), ` +
    `sandbox child ${gw.cpu.sandbox.toFixed(2)} s (${perEvent(gw.cpu.sandbox)}), ` +
    `Redis ${gw.cpu.redis.toFixed(2)} s (${perEvent(gw.cpu.redis)}), ` +
    `sender + sink ${gw.cpu.bench.toFixed(2)} s (${perEvent(gw.cpu.bench)})`,
);
await sink.close();
await redis.stop();
process.exit(0);
