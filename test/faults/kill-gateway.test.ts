import assert from "node:assert/strict";
import { it } from "node:test";
import { DeliveryTally, sendEvents } from "./delivery-tally.ts";
import { FAULT_EVENTS as EVENTS, untilAllDelivered, useFaultRig } from "./fault-rig.ts";

/*
 * kill -9 of the gateway in the middle of 20,000 events: the process is killed while senders are
 * still posting and deliveries are going out, then started again. Every event that got a 202
 * must reach the sink at least once; duplicates (deliveries in flight at the kill, sent again
 * after the restart) are counted and printed, not limited.
 */

const rig = useFaultRig();

it(`delivers every accepted event at least once when the gateway is killed with SIGKILL mid-load (${EVENTS} events)`, async (t) => {
  const call = await rig.route();
  const { gw, sink } = rig;

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

  const { recoveredMs, lost } = await untilAllDelivered(tally, accepted, () => restartedAt);
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
