import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { Sink } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";
import { DeliveryTally, sendEvents } from "./delivery-tally.ts";
import { apiClient, GatewayProcess } from "./gateway-process.ts";

/*
 * Redis (AOF on) is stopped in the middle of the load and started again from its files two
 * seconds later. While it is away, ingest must answer 503 and accept nothing; afterwards every
 * event that got a 202 must reach the sink at least once, and the gateway must not have died.
 */

const TOKEN = "fault-suite-token-0123456789";
const EVENTS = Number(process.env.HOOKGATE_FAULT_EVENTS ?? 20_000);
const OUTAGE_MS = 2000;

let redis: RedisServer;
let sink: Sink;
let gw: GatewayProcess;

before(async () => {
  redis = await startRedisServer({ appendonly: true });
  sink = await new Sink().listen();
  gw = await GatewayProcess.start({ redisUrl: redis.url, token: TOKEN, env: { HOOKGATE_LOCK_MS: "1500" } });
});

after(async () => {
  await gw?.dispose();
  await sink?.close();
  await redis?.stop();
});

it(`answers 503 while Redis is away and delivers every accepted event once it is back (${EVENTS} events)`, async (t) => {
  const call = apiClient(gw.url, TOKEN);
  const route = await call("POST", "/v1/routes", {
    name: "all",
    target: { url: sink.url(), signing: { scheme: "none" } },
    retry: { scheduleMs: [100, 200, 400, 800, 1600] },
  });
  assert.equal(route.status, 201, JSON.stringify(route.json));

  const tally = new DeliveryTally(sink);
  // When Redis was certainly away: from the moment it had stopped to the moment it is started.
  const away = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
  const answersWhileAway: number[] = [];
  let outage: Promise<void> | null = null;
  let backAt = 0;
  let atStop = { accepted: 0, delivered: 0 };

  const accepted = await sendEvents({
    count: EVENTS,
    idPrefix: "redis",
    post: async (batch) => {
      const sentAt = performance.now();
      const res = await call("POST", "/v1/events", batch);
      if (sentAt >= away.from && performance.now() <= away.to) answersWhileAway.push(res.status);
      return res;
    },
    paceMs: 200,
    onAccepted: (n) => {
      if (n < EVENTS / 2 || outage) return;
      outage = (async () => {
        await redis.pause();
        away.from = performance.now();
        atStop = { accepted: n, delivered: tally.update().deliveries };
        await new Promise((r) => setTimeout(r, OUTAGE_MS));
        away.to = performance.now();
        await redis.resume();
        backAt = performance.now();
      })();
    },
  });
  await outage;
  assert.ok(outage, "Redis was stopped");
  assert.equal(accepted.size, EVENTS);

  await waitUntil(
    () => tally.update().missing(accepted).length === 0,
    150_000,
    "every accepted event at the sink",
  );
  const recoveredMs = performance.now() - backAt;
  await new Promise((r) => setTimeout(r, 1000));
  tally.update();
  const lost = tally.missing(accepted).length;
  const statuses = [...new Set(answersWhileAway)].join(", ");
  t.diagnostic(
    `accepted ${accepted.size}; at the stop: ${atStop.accepted} accepted, ${atStop.delivered} delivered; ` +
      `${answersWhileAway.length} answers while Redis was away (statuses: ${statuses}); lost ${lost}; ` +
      `duplicates ${tally.duplicates}; all delivered ${(recoveredMs / 1000).toFixed(1)} s after Redis was back`,
  );
  assert.ok(answersWhileAway.length > 0, "ingest was tried while Redis was away");
  assert.deepEqual([...new Set(answersWhileAway)], [503], "every answer while Redis was away is a 503");
  assert.equal(lost, 0);
  assert.ok(gw.alive, `the gateway survived the outage: ${gw.stderr}`);
});
