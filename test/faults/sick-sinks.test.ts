import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { Sink } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";
import { DeliveryTally, sendEvents } from "./delivery-tally.ts";
import { apiClient, GatewayProcess } from "./gateway-process.ts";
import { FlappingSink, HangingSink, ResettingSink, SlowSink } from "./sick-sinks.ts";

/*
 * Four sick receivers (flapping, hanging, answering byte by byte, resetting) take every event
 * alongside one healthy receiver. The healthy route's deliveries must all arrive, and must not
 * wait behind the sick ones: they are all done while the hanging receiver still holds the first
 * requests it got (the gateway waits 120 s for those before giving up). If the sick targets
 * could take every delivery lane, the healthy deliveries would only go out after those first
 * requests timed out. No timing threshold: only the order of the two.
 */

const TOKEN = "fault-suite-token-0123456789";
// More deliveries per sick target than the worker has lanes (HOOKGATE_DELIVERY_CONCURRENCY 128).
const EVENTS = 400;

let redis: RedisServer;
let healthy: Sink;
const flapping = new FlappingSink();
const hanging = new HangingSink();
const slow = new SlowSink();
const resetting = new ResettingSink();
let gw: GatewayProcess;

before(async () => {
  redis = await startRedisServer({ appendonly: false });
  healthy = await new Sink().listen();
  await Promise.all([flapping.listen(), hanging.listen(), slow.listen(), resetting.listen()]);
  gw = await GatewayProcess.start({ redisUrl: redis.url, token: TOKEN });
});

after(async () => {
  await gw?.dispose();
  await Promise.all([healthy?.close(), flapping.close(), hanging.close(), slow.close(), resetting.close()]);
  await redis?.stop();
});

it("keeps delivering to a healthy target while others flap, hang, drip bytes or reset", async (t) => {
  const call = apiClient(gw.url, TOKEN);
  // The sick routes come first in the walk order, so their deliveries are queued first.
  const sick: [string, string][] = [
    ["hanging", hanging.url()],
    ["slow", slow.url()],
    ["flapping", flapping.url()],
    ["resetting", resetting.url()],
  ];
  for (const [name, url] of sick) {
    const res = await call("POST", "/v1/routes", {
      name,
      target: { url, timeoutMs: 120_000, signing: { scheme: "none" } },
      retry: { scheduleMs: [100, 100, 100, 100, 100] },
    });
    assert.equal(res.status, 201, JSON.stringify(res.json));
  }
  const route = await call("POST", "/v1/routes", {
    name: "healthy",
    target: { url: healthy.url(), signing: { scheme: "none" } },
  });
  assert.equal(route.status, 201, JSON.stringify(route.json));

  const tally = new DeliveryTally(healthy);
  const started = performance.now();
  const accepted = await sendEvents({
    count: EVENTS,
    idPrefix: "sick",
    post: (batch) => call("POST", "/v1/events", batch),
  });
  assert.equal(accepted.size, EVENTS);

  // Done when every healthy delivery arrived, or lost when the first held request was given up.
  const firstHeld = () => hanging.held.slice(0, 10);
  await waitUntil(
    () =>
      tally.update().missing(accepted).length === 0 ||
      (hanging.held.length > 0 && firstHeld().some((h) => h.closed)),
    150_000,
    "the healthy deliveries, or the hanging target's first requests timing out",
  );
  const doneMs = performance.now() - started;
  const missing = tally.missing(accepted).length;
  const stillHeld = hanging.held.filter((h) => !h.closed).length;
  t.diagnostic(
    `healthy: ${tally.seen.size} of ${EVENTS} delivered in ${(doneMs / 1000).toFixed(1)} s ` +
      `(${tally.duplicates} duplicates); hanging holds ${stillHeld} of ${hanging.received} requests; ` +
      `slow got ${slow.received}, flapping ${flapping.received}, resetting ${resetting.received}`,
  );
  assert.equal(missing, 0, "every healthy delivery arrived");
  assert.ok(hanging.received > 0, "the hanging target was called");
  assert.ok(
    firstHeld().every((h) => !h.closed),
    "the healthy deliveries finished while the hanging target still held its first requests",
  );
  assert.ok(gw.alive, gw.stderr);
});
