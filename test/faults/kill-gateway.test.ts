import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { Sink } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";
import { DeliveryTally, sendEvents } from "./delivery-tally.ts";
import { apiClient, GatewayProcess } from "./gateway-process.ts";

/*
 * kill -9 of the gateway in the middle of 20,000 events: the process is killed while senders are
 * still posting and deliveries are going out, then started again. Every event that got a 202
 * must reach the sink at least once; duplicates (deliveries in flight at the kill, sent again
 * after the restart) are counted and printed, not limited.
 */

const TOKEN = "fault-suite-token-0123456789";
const EVENTS = Number(process.env.HOOKGATE_FAULT_EVENTS ?? 20_000);

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

it(`delivers every accepted event at least once when the gateway is killed with SIGKILL mid-load (${EVENTS} events)`, async (t) => {
  const call = apiClient(gw.url, TOKEN);
  const route = await call("POST", "/v1/routes", {
    name: "all",
    target: { url: sink.url(), signing: { scheme: "none" } },
    retry: { scheduleMs: [100, 200, 400, 800, 1600] },
  });
  assert.equal(route.status, 201, JSON.stringify(route.json));

  const tally = new DeliveryTally(sink);
  const killAt = Math.floor(EVENTS / 2);
  let killed: Promise<void> | null = null;
  let atKill = { accepted: 0, delivered: 0 };
  let restartedAt = 0;
  let refusedWhileDown = 0;

  const accepted = await sendEvents({
    count: EVENTS,
    idPrefix: "kill",
    post: (batch) => call("POST", "/v1/events", batch),
    // About 2,000 events/s, below what delivery keeps up with: at the kill, events are being
    // accepted, walked and delivered all at once.
    paceMs: 200,
    onAccepted: (n) => {
      if (n < killAt || killed) return;
      // The senders keep posting through the kill and the restart, as real senders would.
      killed = (async () => {
        await gw.kill();
        atKill = { accepted: n, delivered: tally.update().deliveries };
        await gw.restart();
        restartedAt = performance.now();
      })();
    },
    onRefused: () => {
      refusedWhileDown++;
    },
  });
  await killed;
  assert.ok(killed, "the gateway was killed");
  assert.equal(accepted.size, EVENTS);

  await waitUntil(
    () => tally.update().missing(accepted).length === 0,
    150_000,
    "every accepted event at the sink",
  );
  const recoveredMs = performance.now() - restartedAt;
  // Anything still in flight or queued for a retry arrives now; count it among the duplicates.
  await new Promise((r) => setTimeout(r, 1000));
  tally.update();
  const lost = tally.missing(accepted).length;
  t.diagnostic(
    `accepted ${accepted.size}; at the kill: ${atKill.accepted} accepted, ${atKill.delivered} delivered; ` +
      `requests refused or cut off while down: ${refusedWhileDown}; lost ${lost}; duplicates ${tally.duplicates}; ` +
      `all delivered ${(recoveredMs / 1000).toFixed(1)} s after the restart`,
  );
  assert.equal(lost, 0);
  assert.ok(
    atKill.delivered < atKill.accepted,
    `deliveries were still going on at the kill (${atKill.delivered} of ${atKill.accepted} delivered)`,
  );
  assert.ok(gw.alive, `the restarted gateway is running: ${gw.stderr}`);
});
