/*
 * Latency from ingest to the sink at a fixed rate, in one run on one machine:
 *   raw:      undici POSTs straight to a local sink at the rate, one event per request;
 *   hookgate: the same events, one per POST /v1/events to the gateway (its own process, as
 *             `npm start` runs it), through a route with filter + map (isolated-vm) and Standard
 *             Webhooks signing, to the same sink.
 * Open loop: each event has its planned send time (rate × elapsed) and latency runs from that
 * planned time to the moment the sink has the whole request, so a stalled gateway cannot hide
 * its backlog (no coordinated omission). The first `--warmup` seconds are not counted.
 *
 * Usage: node bench/latency.ts [--rate 1000] [--seconds 60] [--warmup 5]
 */
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { GatewayProcess } from "../test/faults/gateway-process.ts";
import { startRedisServer } from "../test/helpers/redis-server.ts";
import { CountingSink, fmt, machine, nowMs, percentile, postJson } from "./harness.ts";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "60" },
    warmup: { type: "string", default: "5" },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const WARMUP_S = Math.min(Number(values.warmup), SECONDS / 2);
const TOKEN = "bench-token-0123456789abcdef";

interface Run {
  /** Planned send time → sink arrival, ms, counted events only. */
  latencies: number[];
  /** Planned send time → answer to the sender (the 202 for hookgate), ms. */
  answers: number[];
  sent: number;
  received: number;
  failed: number;
}

const eventOf = (stamp: number, i: number) => ({
  type: "messageNew",
  data: {
    stamp,
    n: i,
    subject: `Invoice ${i}`,
    from: { address: "ada@example.com" },
    text: "x".repeat(1500),
  },
});

/** Sends RATE events/s for SECONDS through `send`, stamping each with its planned time. */
async function drive(
  sink: CountingSink,
  send: (body: string) => Promise<number>,
  stampOf: (body: string) => number,
): Promise<Run> {
  const run: Run = { latencies: [], answers: [], sent: 0, received: 0, failed: 0 };
  const start = nowMs() + 100;
  const countFrom = start + WARMUP_S * 1000;
  const total = Math.round(RATE * SECONDS);
  const base = sink.received;
  sink.onBody = (body, at) => {
    const stamp = stampOf(body);
    if (stamp >= countFrom) run.latencies.push(at - stamp);
  };
  const inflight = new Set<Promise<void>>();
  while (run.sent < total) {
    const due = Math.min(total, Math.floor(((nowMs() - start) * RATE) / 1000) + 1);
    for (; run.sent < due; run.sent++) {
      const stamp = start + (run.sent * 1000) / RATE;
      const p: Promise<void> = send(JSON.stringify(eventOf(stamp, run.sent)))
        .then((status) => {
          if (status >= 300) run.failed++;
          else if (stamp >= countFrom) run.answers.push(nowMs() - stamp);
        })
        .catch(() => {
          run.failed++;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  const expected = base + total - run.failed;
  await Promise.race([sink.until(expected), new Promise((r) => setTimeout(r, 60_000))]);
  run.received = sink.received - base;
  sink.onBody = null;
  run.latencies.sort((a, b) => a - b);
  run.answers.sort((a, b) => a - b);
  return run;
}

const sink = await new CountingSink().listen();
const redis = await startRedisServer({ appendonly: true });
const where = await machine(redis.url);

// Raw: the sink's own body is the event, its stamp at data.stamp.
const rawAgent = new Agent({ connections: 64 });
const raw = await drive(
  sink,
  async (body) => {
    const res = await request(sink.url(), {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
      dispatcher: rawAgent,
    });
    await res.body.dump();
    return res.statusCode;
  },
  (body) => (JSON.parse(body) as { data: { stamp: number } }).data.stamp,
);
await rawAgent.close();

const gw = await GatewayProcess.start({ redisUrl: redis.url, token: TOKEN });
await postJson(`${gw.url}/v1/routes`, TOKEN, {
  name: "latency",
  target: { url: sink.url() },
  filter: "export default (e) => e.type === 'messageNew'",
  map: "export default (e) => ({ id: e.id, stamp: e.data.stamp, subject: e.data.subject, from: e.data.from.address })",
});
const apiAgent = new Agent({ connections: 64 });
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const hookgate = await drive(
  sink,
  async (body) => {
    const res = await request(`${gw.url}/v1/events`, { method: "POST", body, headers, dispatcher: apiAgent });
    await res.body.dump();
    return res.statusCode;
  },
  (body) => (JSON.parse(body) as { stamp: number }).stamp,
);
await apiAgent.close();
await gw.dispose();
await redis.stop();
await sink.close();

const row = (name: string, xs: number[]) =>
  `${name.padEnd(34)}${[50, 99, 99.9].map((p) => `${fmt(percentile(xs, p), 2).padStart(10)} ms`).join("")}${fmt(xs.at(-1) ?? Number.NaN, 1).padStart(10)} ms`;
console.log(`machine: ${where}`);
console.log(`${RATE} events/s for ${SECONDS} s, first ${WARMUP_S} s not counted; 2 KB events`);
console.log(
  `${"".padEnd(34)}${["p50", "p99", "p99.9"].map((p) => p.padStart(13)).join("")}${"max".padStart(13)}`,
);
console.log(row("raw POST → sink", raw.latencies));
console.log(row("hookgate: ingest → 202", hookgate.answers));
console.log(row("hookgate: ingest → sink", hookgate.latencies));
for (const [name, r] of [
  ["raw", raw],
  ["hookgate", hookgate],
] as const) {
  console.log(`${name}: sent ${r.sent}, refused or failed ${r.failed}, arrived ${r.received}`);
}
const ratio = (p: number) => percentile(hookgate.latencies, p) / percentile(raw.latencies, p);
console.log(
  `ratio hookgate / raw: p50 ${fmt(ratio(50), 1)}×, p99 ${fmt(ratio(99), 1)}×, p99.9 ${fmt(ratio(99.9), 1)}×`,
);
process.exit(0);
