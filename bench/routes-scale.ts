/*
 * Scale with routes, in one run on one machine: 10,000 routes of which one takes the common
 * event (messageNew): 7 in 10 have an exact type of their own, 2 in 10 a prefix glob
 * (`group42.*`), 1 in 10 takes every type but only from one source; next to the same with the
 * matching route alone.
 *   walk:   µs per event of walkEvent over the route table, with the index (what the walker
 *           does) and walking every route (what a linear scan costs), in this process;
 *   memory: the route table's heap (compiled and indexed routes), in this process;
 *   gateway: events/s end to end and the RSS of the gateway process (its own process, as
 *           `npm start` runs it) with each route count.
 *
 * Usage: node --expose-gc bench/routes-scale.ts [--routes 10000] [--walks 20000] [--events 10000]
 */
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import type { HookgateEvent } from "../src/events/index.ts";
import {
  buildRoute,
  type CompiledRoute,
  RouteInSchema,
  RouteStore,
  RouteTable,
} from "../src/routing/index.ts";
import { createSandbox } from "../src/sandbox/index.ts";
import { createRedis, waitForRedis } from "../src/shared/redis.ts";
import { redisKeys } from "../src/shared/redis-keys.ts";
import { walkEvent } from "../src/walk/index.ts";
import { GatewayProcess } from "../test/faults/gateway-process.ts";
import { startRedisServer } from "../test/helpers/redis-server.ts";
import { CountingSink, fmt, machine, rssMbOf } from "./harness.ts";

const { values } = parseArgs({
  options: {
    routes: { type: "string", default: "10000" },
    walks: { type: "string", default: "20000" },
    events: { type: "string", default: "10000" },
  },
});
const ROUTES = Number(values.routes);
const WALKS = Number(values.walks);
const EVENTS = Number(values.events);
const TOKEN = "bench-token-0123456789abcdef";
const gc = (globalThis as { gc?: () => void }).gc;

function routeInput(i: number, url: string): unknown {
  const target = { url, signing: { scheme: "none" } };
  if (i === 0) return { name: "match", events: ["messageNew"], target };
  const kind = i % 10;
  if (kind < 7) return { name: `exact ${i}`, events: [`type${i}`], target };
  if (kind < 9) return { name: `prefix ${i}`, events: [`group${i}.*`], target };
  return { name: `source ${i}`, sources: [`src_${i}`], target };
}

async function storeRoutes(store: RouteStore, count: number, url: string): Promise<void> {
  for (let from = 0; from < count; from += 500) {
    const chunk = Array.from({ length: Math.min(500, count - from) }, (_, k) =>
      buildRoute(RouteInSchema.parse(routeInput(from + k, url))),
    );
    await Promise.all(chunk.map((r) => store.create(r)));
  }
}

// Half the events are the common one (one route takes it), half name one route each by type.
const eventOf = (i: number, routes: number): HookgateEvent => ({
  id: `evt_${i}`,
  type: i % 2 === 0 || routes === 1 ? "messageNew" : `type${(i % Math.max(routes - 1, 1)) + 1}`,
  source: null,
  account: null,
  occurredAt: "2026-01-01T00:00:00.000Z",
  receivedAt: "2026-01-01T00:00:00.000Z",
  data: { subject: "Invoice 1043" },
});

interface WalkFigures {
  indexedUs: number;
  scanUs: number;
  heapMb: number;
}

/** Walk cost and table memory with `count` routes stored under their own key prefix. */
async function measureWalks(redisUrl: string, count: number, url: string): Promise<WalkFigures> {
  const redis = createRedis(redisUrl);
  await waitForRedis(redis);
  const store = new RouteStore(redis, redisKeys(`walk${count}`));
  await storeRoutes(store, count, url);
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const table = new RouteTable(store);
  const routes: readonly CompiledRoute[] = await table.current();
  gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  const sandbox = createSandbox({ mode: "inline", timeoutMs: 1000, memoryLimitMb: 16, maxIsolates: 4 });
  const time = async (reportSkipped: boolean) => {
    const n = reportSkipped ? Math.max(200, Math.floor(WALKS / Math.max(1, count / 100))) : WALKS;
    for (let i = 0; i < Math.min(n, 500); i++)
      await walkEvent(routes, eventOf(i, count), sandbox, { reportSkipped });
    const started = performance.now();
    for (let i = 0; i < n; i++) await walkEvent(routes, eventOf(i, count), sandbox, { reportSkipped });
    return ((performance.now() - started) * 1000) / n;
  };
  const figures = { indexedUs: await time(false), scanUs: await time(true), heapMb };
  sandbox.dispose();
  redis.disconnect();
  return figures;
}

interface GatewayFigures {
  eventsPerS: number;
  rssMb: number;
}

/** Events/s through the gateway process and its RSS, with `count` routes stored. */
async function measureGateway(redisUrl: string, count: number, sink: CountingSink): Promise<GatewayFigures> {
  const prefix = `gw${count}`;
  const redis = createRedis(redisUrl);
  await waitForRedis(redis);
  await storeRoutes(new RouteStore(redis, redisKeys(prefix)), count, sink.url());
  redis.disconnect();
  const gw = await GatewayProcess.start({ redisUrl, token: TOKEN, env: { HOOKGATE_KEY_PREFIX: prefix } });
  const agent = new Agent({ connections: 8 });
  const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
  const post = async (from: number, size: number) => {
    const batch = Array.from({ length: size }, (_, k) => ({ type: "messageNew", data: { n: from + k } }));
    const res = await request(`${gw.url}/v1/events`, {
      method: "POST",
      headers,
      body: JSON.stringify(batch),
      dispatcher: agent,
    });
    await res.body.dump();
    if (res.statusCode !== 202) throw new Error(`ingest ${res.statusCode}`);
  };
  // Warm: the table is loaded and compiled, connections are open.
  const base = sink.received;
  await post(0, 100);
  await sink.until(base + 100);
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
  await sink.until(base + 100 + EVENTS);
  const seconds = (performance.now() - started) / 1000;
  const rssMb = rssMbOf(gw.pid ?? 0);
  await agent.close();
  await gw.dispose();
  return { eventsPerS: EVENTS / seconds, rssMb };
}

const redis = await startRedisServer({ appendonly: true });
const sink = await new CountingSink().listen();
const where = await machine(redis.url);
if (!gc) console.log("(run with node --expose-gc for the heap figures)");

const walk1 = await measureWalks(redis.url, 1, sink.url());
const walkN = await measureWalks(redis.url, ROUTES, sink.url());
const gw1 = await measureGateway(redis.url, 1, sink);
const gwN = await measureGateway(redis.url, ROUTES, sink);
await sink.close();
await redis.stop();

const pad = (s: string) => s.padEnd(46);
console.log(`machine: ${where}`);
console.log(
  `${ROUTES} routes (one takes messageNew; 70% exact types, 20% prefix globs, 10% per source) vs 1 route`,
);
console.log(`${pad("")}${"1 route".padStart(14)}${`${ROUTES} routes`.padStart(16)}${"ratio".padStart(10)}`);
const line = (name: string, a: number, b: number, unit: string, digits = 1) =>
  console.log(
    `${pad(name)}${`${fmt(a, digits)} ${unit}`.padStart(14)}${`${fmt(b, digits)} ${unit}`.padStart(16)}${`${fmt(b / a, 2)}×`.padStart(10)}`,
  );
line("walk per event, indexed (the walker)", walk1.indexedUs, walkN.indexedUs, "µs", 2);
line("walk per event, every route walked (scan)", walk1.scanUs, walkN.scanUs, "µs", 2);
line("route table heap (compiled + index)", walk1.heapMb, walkN.heapMb, "MB", 2);
line("gateway end to end (messageNew events)", gw1.eventsPerS, gwN.eventsPerS, "ev/s", 0);
line("gateway process RSS after the run", gw1.rssMb, gwN.rssMb, "MB", 0);
console.log(
  `index speed-up with ${ROUTES} routes: ${fmt(walkN.scanUs / walkN.indexedUs, 0)}× fewer µs per event than walking every route`,
);
process.exit(0);
