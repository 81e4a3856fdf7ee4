/*
 * End-to-end throughput, in one run on one machine:
 *   baseline: raw undici POSTs (64 in flight) to a local sink;
 *   hookgate: POST /v1/events (batches of 100) → walk (filter + map in isolated-vm) → queue →
 *             signed delivery to the same sink, timed until the sink has every event.
 * Prints events/s for both and the ratio. Usage: npm run bench [-- --events 20000]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { loadConfig } from "../src/config/index.ts";
import { startGateway } from "../src/gateway.ts";
import { freePort, startRedisServer } from "../test/helpers/redis-server.ts";

const { values } = parseArgs({ options: { events: { type: "string", default: "20000" } } });
const N = Number(values.events);

let received = 0;
let onReceived: (() => void) | null = null;
const sink = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    received++;
    res.writeHead(200).end("ok");
    if (onReceived) onReceived();
  });
});
sink.keepAliveTimeout = 10_000;
await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`;

function untilReceived(count: number): Promise<void> {
  return new Promise((resolve) => {
    onReceived = () => {
      if (received >= count) {
        onReceived = null;
        resolve();
      }
    };
    onReceived();
  });
}

const body = JSON.stringify({
  id: "evt_bench",
  type: "messageNew",
  data: { subject: "Invoice 1043", from: { address: "ada@example.com" }, text: { plain: "x".repeat(1500) } },
});

async function baseline(): Promise<number> {
  const agent = new Agent({ connections: 64 });
  received = 0;
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next++ < N) {
      const res = await request(sinkUrl, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
        dispatcher: agent,
      });
      await res.body.dump();
    }
  };
  await Promise.all(Array.from({ length: 64 }, lane));
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return N / seconds;
}

async function hookgate(): Promise<{ rate: number; acceptRate: number }> {
  const redis = await startRedisServer({ appendonly: true });
  const port = await freePort();
  const token = "bench-token-0123456789abcdef";
  const config = loadConfig({
    REDIS_URL: redis.url,
    PORT: String(port),
    HOOKGATE_TARGET_ALLOW: "127.0.0.1/32",
    HOOKGATE_LOG_LEVEL: "silent",
    ...(process.env.HOOKGATE_TARGET_CONCURRENCY
      ? { HOOKGATE_TARGET_CONCURRENCY: process.env.HOOKGATE_TARGET_CONCURRENCY }
      : {}),
  });
  const gw = await startGateway(config, { adminToken: token });
  const app = gw.app;
  if (!app) throw new Error("no API");
  await app.listen({ port, host: "127.0.0.1" });
  const api = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const created = await request(`${api}/v1/routes`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      name: "bench",
      target: { url: sinkUrl },
      filter: "export default (e) => e.type === 'messageNew'",
      map: "export default (e) => ({ id: e.id, subject: e.data.subject, from: e.data.from.address })",
    }),
  });
  if (created.statusCode !== 201)
    throw new Error(`route: ${created.statusCode} ${await created.body.text()}`);
  await created.body.dump();

  received = 0;
  const agent = new Agent({ connections: 8 });
  const started = performance.now();
  const done = untilReceived(N);
  const events = JSON.parse(body);
  let sent = 0;
  const lane = async () => {
    while (sent < N) {
      const size = Math.min(100, N - sent);
      sent += size;
      const batch = Array.from({ length: size }, () => ({ ...events, id: undefined }));
      const res = await request(`${api}/v1/events`, {
        method: "POST",
        headers,
        body: JSON.stringify(batch),
        dispatcher: agent,
      });
      if (res.statusCode !== 202) throw new Error(`ingest ${res.statusCode}`);
      await res.body.dump();
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  const acceptSeconds = (performance.now() - started) / 1000;
  await done;
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  await gw.close();
  await redis.stop();
  return { rate: N / seconds, acceptRate: N / acceptSeconds };
}

const raw = await baseline();
const gw = await hookgate();
console.log(`events: ${N} (2 KB payload), node ${process.version}`);
console.log(`raw undici POST to sink:      ${raw.toFixed(0)} req/s`);
console.log(`hookgate ingest accepted:     ${gw.acceptRate.toFixed(0)} events/s`);
console.log(`hookgate end to end:          ${gw.rate.toFixed(0)} events/s`);
console.log(`ratio end to end / raw:       ${(gw.rate / raw).toFixed(2)}`);
sink.close();
process.exit(0);
