/*
 * What Hookgate costs Redis, per event: the one resource every gateway process shares, so what
 * one Redis primary carries is where a deployment outgrows one Redis (README, "Scaling out").
 * The gateway runs as its own process (src/main.ts) on a fresh Redis over loopback TCP (AOF
 * everysec), with one route (filter + map + Standard Webhooks signing) to a loopback sink. For each
 * row, after a warm-up and a pass counting round trips, CONFIG RESETSTAT, then N events are sent (64 requests in flight) and
 * delivered, and Redis is read:
 *   commands/event from clients (round trips' worth): counted with MONITOR in a pass of their own,
 *     a script call once;
 *   commands/event incl. Lua: the calls of INFO commandstats (what scripts run counts too);
 *   what the gateway costs Redis idle (its timers and blocking reads), per second;
 *   Redis CPU µs/event: INFO cpu used_cpu_user + used_cpu_sys (every thread of the server);
 *   events/s one primary carries: 1e6 / CPU µs per event, Redis at 100 % of one core (its commands
 *   run on one thread).
 * Rows: one event per POST /v1/events, one per POST /v1/ingest/:sourceId (EmailEngine, signature
 * checked), 100 per POST /v1/events; and the first and last again with a replica that confirms
 * each accepted event (Redis WAIT, as with Cluster or Sentinel: HOOKGATE_REDIS_REPLICA_ACKS).
 * Usage: npm run bench:redis [-- --events 10000 --warmup 1000 --only events,batch]
 */
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { Agent, request } from "undici";
import { GatewayProcess } from "../test/faults/gateway-process.ts";
import { waitUntil } from "../test/helpers/wait.ts";
import { emailEngineBody } from "./email-load.ts";
import {
  type BenchRedis,
  CountingSink,
  cpuSecondsOf,
  fmt,
  machine,
  postJson,
  startBenchRedis,
} from "./harness.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "10000" },
    warmup: { type: "string", default: "1000" },
    inflight: { type: "string", default: "64" },
    only: { type: "string", default: "" },
  },
});
const N = Number(values.events);
const WARM = Number(values.warmup);
const IN_FLIGHT = Number(values.inflight);
const TOKEN = "bench-token-0123456789abcdef";
/** Events of the pass that counts round trips (MONITOR), between the warm-up and the timed run. */
const COUNTED = 1000;
const countRequests = (kind: Kind) => (kind === "batch" ? COUNTED / 100 : COUNTED);
/** How long the gateway is watched with nothing to do. */
const IDLE_MS = 5000;

type Kind = "events" | "ingest" | "batch";

interface Request {
  path: string;
  headers: Record<string, string>;
  body: string;
  events: number;
}

/** The requests of one row (warm-up first), built before the clock starts. */
function requestsOf(kind: Kind, run: string, source: { id: string; secret: string } | null): Request[] {
  const ids = Array.from({ length: WARM + COUNTED + N }, (_, i) => `${run}-${i}`);
  const auth = { "content-type": "application/json", authorization: `Bearer ${TOKEN}` };
  const event = (id: string) => `{"id":"evt_${id}","type":"messageNew","data":${emailEngineBody(id)}}`;
  if (kind === "events")
    return ids.map((id) => ({ path: "/v1/events", headers: auth, body: event(id), events: 1 }));
  if (kind === "batch") {
    const out: Request[] = [];
    // The warm-up in batches of its own, so the measured part is N events exactly.
    for (const [from, to] of [
      [0, WARM],
      [WARM, WARM + COUNTED],
      [WARM + COUNTED, WARM + COUNTED + N],
    ] as const)
      for (let i = from; i < to; i += 100) {
        const slice = ids.slice(i, Math.min(i + 100, to));
        out.push({
          path: "/v1/events",
          headers: auth,
          body: `[${slice.map(event).join(",")}]`,
          events: slice.length,
        });
      }
    return out;
  }
  if (!source) throw new Error("ingest needs a source");
  return ids.map((id) => {
    const body = emailEngineBody(id);
    const signature = createHmac("sha256", source.secret).update(body).digest("base64url");
    return {
      path: `/v1/ingest/${source.id}`,
      headers: { "content-type": "application/json", "x-ee-wh-signature": signature },
      body,
      events: 1,
    };
  });
}

async function drive(base: string, requests: Request[], agent: Agent): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < requests.length) {
      const r = requests[next++] as Request;
      const res = await request(`${base}${r.path}`, {
        method: "POST",
        headers: r.headers,
        body: r.body,
        dispatcher: agent,
      });
      await res.body.dump();
      if (res.statusCode !== 202 && res.statusCode !== 200) throw new Error(`${r.path}: ${res.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

/** INFO fields as numbers, and commandstats' calls and µs per command. */
async function readRedis(redis: Redis) {
  const info = await redis.info("all");
  const num = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
  const commands = new Map<string, { calls: number; usec: number }>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm))
    commands.set(m[1] as string, { calls: Number(m[2]), usec: Number(m[3]) });
  return {
    processed: num("total_commands_processed"),
    cpu: num("used_cpu_user") + num("used_cpu_sys"),
    sys: num("used_cpu_sys"),
    commands,
  };
}

interface Row {
  key: string;
  name: string;
  rate: number;
  clientCommands: number;
  allCommands: number;
  redisCpuUs: number;
  redisSysUs: number;
  gatewayCpuUs: number;
  idleCommandsPerS: number;
  idleCpuUsPerS: number;
  top: string;
  load: number;
}

async function measure(
  key: string,
  name: string,
  kind: Kind,
  replica: boolean,
  sink: CountingSink,
): Promise<Row> {
  const load = loadavg()[0] ?? 0;
  const redis: BenchRedis = await startBenchRedis();
  const copy: BenchRedis | null = replica ? await startBenchRedis({ replicaOf: redis.url }) : null;
  const client = new Redis(redis.url);
  if (copy)
    await waitUntil(
      async () => /slave0:.*state=online/.test(await client.info("replication")),
      30_000,
      "the replica",
    );
  const gw = await GatewayProcess.start({
    redisUrl: redis.url,
    token: TOKEN,
    env: copy ? { HOOKGATE_REDIS_REPLICA_ACKS: "1" } : {},
  });
  const agent = new Agent({ connections: IN_FLIGHT });
  try {
    await postJson(`${gw.url}/v1/routes`, TOKEN, {
      name: "cost",
      target: { url: sink.url() },
      filter: "export default (e) => e.type === 'messageNew'",
      map: "export default (e) => ({ id: e.id, subject: e.data.data.subject, from: e.data.data.from.address })",
    });
    const source =
      kind === "ingest"
        ? ((await postJson(`${gw.url}/v1/sources`, TOKEN, { name: "cost", kind: "emailengine" })) as {
            id: string;
            secret: string;
          })
        : null;
    const requests = requestsOf(kind, `${key}-${Date.now()}`, source);
    const warm = kind === "batch" ? Math.ceil(WARM / 100) : WARM;
    const base = sink.received;
    await drive(gw.url, requests.slice(0, warm), agent);
    await sink.until(base + WARM);

    // Round trips: a pass watched with MONITOR, which names what scripts run as "lua" (MONITOR
    // costs Redis CPU of its own, so this pass is not the timed one).
    const monitor = spawn("redis-cli", ["-p", new URL(redis.url).port, "MONITOR"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let fromClients = 0;
    let partial = "";
    monitor.stdout.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (!/ \[\d+ lua\] | "(info|config|monitor)"/i.test(line)) fromClients++;
    });
    await waitUntil(() => fromClients > 0, 10_000, "MONITOR to report");
    fromClients = 0;
    const counted = requests.slice(warm, warm + countRequests(kind));
    const countBase = sink.received;
    await drive(gw.url, counted, agent);
    await sink.until(countBase + counted.reduce((s, r) => s + r.events, 0));
    monitor.kill();
    const countedEvents = counted.reduce((s, r) => s + r.events, 0);

    // What Redis does for a gateway with nothing to do (timers, blocking reads), per second.
    await client.config("RESETSTAT");
    const idleFrom = await readRedis(client);
    const idleStarted = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idleTo = await readRedis(client);
    const idleSeconds = (performance.now() - idleStarted) / 1000;

    await client.config("RESETSTAT");
    const before = await readRedis(client);
    const gatewayBefore = cpuSecondsOf(gw.pid ?? 0);
    const started = performance.now();
    await drive(gw.url, requests.slice(warm + counted.length), agent);
    await sink.until(countBase + countedEvents + N);
    const seconds = (performance.now() - started) / 1000;
    const after = await readRedis(client);
    const gatewayCpu = cpuSecondsOf(gw.pid ?? 0) - gatewayBefore;

    // The CONFIG RESETSTAT and INFO of this benchmark are not the gateway's.
    const ours = new Set(["config|resetstat", "info", "config"]);
    const calls = [...after.commands].filter(([c]) => !ours.has(c));
    const allCommands = calls.reduce((s, [, v]) => s + v.calls, 0);
    const top = calls
      .sort((a, b) => b[1].calls - a[1].calls)
      .slice(0, 8)
      .map(([c, v]) => `${c} ${(v.calls / N).toFixed(2)}`)
      .join(", ");
    return {
      key,
      name,
      rate: N / seconds,
      clientCommands: fromClients / countedEvents,
      allCommands: allCommands / N,
      redisCpuUs: ((after.cpu - before.cpu) / N) * 1e6,
      redisSysUs: ((after.sys - before.sys) / N) * 1e6,
      gatewayCpuUs: (gatewayCpu / N) * 1e6,
      idleCommandsPerS: (idleTo.processed - idleFrom.processed) / idleSeconds,
      idleCpuUsPerS: ((idleTo.cpu - idleFrom.cpu) / idleSeconds) * 1e6,
      top,
      load,
    };
  } finally {
    await agent.close();
    client.disconnect();
    await gw.dispose();
    await copy?.stop();
    await redis.stop();
  }
}

const rows: { key: string; name: string; kind: Kind; replica: boolean }[] = [
  { key: "events", name: "one event per `POST /v1/events`", kind: "events", replica: false },
  {
    key: "ingest",
    name: "one event per `POST /v1/ingest/:sourceId` (EmailEngine)",
    kind: "ingest",
    replica: false,
  },
  { key: "batch", name: "100 events per `POST /v1/events`", kind: "batch", replica: false },
  {
    key: "events-wait",
    name: "one per `POST /v1/events`, a replica confirming (WAIT)",
    kind: "events",
    replica: true,
  },
  {
    key: "batch-wait",
    name: "100 per `POST /v1/events`, a replica confirming (WAIT)",
    kind: "batch",
    replica: true,
  },
];
const only = values.only ? new Set(values.only.split(",")) : null;

const sink = await new CountingSink().listen();
const forInfo = await startBenchRedis({ appendonly: false });
console.log(`machine: ${await machine(forInfo.url)}`);
await forInfo.stop();
console.log(
  `events: ${N} measured per row after ${WARM} warm-up, ${IN_FLIGHT} requests in flight, 2 KB EmailEngine messageNew\n`,
);

const results: Row[] = [];
for (const r of rows.filter((x) => !only || only.has(x.key))) {
  const row = await measure(r.key, r.name, r.kind, r.replica, sink);
  results.push(row);
  console.log(
    `${r.key}: ${fmt(row.rate)} events/s; Redis CPU per event ${fmt(row.redisCpuUs, 1)} µs, of it in the ` +
      `kernel (sockets, AOF) ${fmt(row.redisSysUs, 1)} µs; commands per event: ${row.top}`,
  );
}

console.log(
  "\n| path | events/s here | Redis commands per event (from clients / incl. Lua) | Redis CPU per event | events/s one primary carries (100 % of a core) | gateway CPU per event | Redis idle: commands/s, CPU |",
);
console.log("|---|---|---|---|---|---|---|");
for (const r of results)
  console.log(
    `| ${r.name} | ${fmt(r.rate)} | ${r.clientCommands.toFixed(2)} / ${r.allCommands.toFixed(1)} | ${fmt(r.redisCpuUs, 1)} µs | ${fmt(1e6 / r.redisCpuUs)} | ${fmt(r.gatewayCpuUs)} µs | ${fmt(r.idleCommandsPerS)}/s, ${fmt(r.idleCpuUsPerS / 1e4, 2)} % of a core |`,
  );
await sink.close();
process.exit(0);
