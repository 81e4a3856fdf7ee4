import assert from "node:assert/strict";
import { it } from "node:test";
import { DeliveryTally, sendEvents } from "./delivery-tally.ts";
import { FAULT_EVENTS as EVENTS, untilAllDelivered, useFaultRig } from "./fault-rig.ts";

/*
 * Redis (AOF on) is stopped in the middle of the load and started again from its files two
 * seconds later. While it is away, ingest must answer 503 and accept nothing; afterwards every
 * event that got a 202 must reach the sink at least once, and the gateway must not have died.
 */

const OUTAGE_MS = 2000;

const rig = useFaultRig();

it(`answers 503 while Redis is away and delivers every accepted event once it is back (${EVENTS} events)`, async (t) => {
  const call = await rig.route();
  const { gw, redis, sink } = rig;

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

  const { recoveredMs, lost } = await untilAllDelivered(tally, accepted, () => backAt);
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
