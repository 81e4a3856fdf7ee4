import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type RedisPair, redisCli, startRedisPair } from "../helpers/redis-cluster.ts";
import { waitUntil } from "../helpers/wait.ts";

/**
 * HOOKGATE_REDIS_REPLICA_ACKS: an event is answered 202 only once a replica has it (Redis WAIT).
 * Without a replica online nothing can be confirmed: ingest answers 503 at once and /readyz says
 * why; once the replica is back, events are accepted again.
 */

let pair: RedisPair;
let gw: TestGateway;

before(async () => {
  pair = await startRedisPair();
  gw = await startTestGateway(pair.url, { HOOKGATE_REDIS_REPLICA_ACKS: "1" });
});

after(async () => {
  await gw?.close();
  await pair?.stop();
});

const post = (id: string) => gw.call("POST", "/v1/events", { id, type: "messageNew", data: {} });

describe("replica confirmations", () => {
  it("accepts an event once the replica has it", async () => {
    const res = await post("with-replica");
    assert.equal(res.status, 202, JSON.stringify(res.json));
    // What the 202 promises: the replica holds the event's dedup mark already.
    const keys = await redisCli(pair.replica.port, "KEYS", `${gw.prefix}:seen:*`);
    assert.ok(keys.includes(`${gw.prefix}:seen:with-replica`), keys);
    const ready = await gw.call("GET", "/readyz");
    assert.equal(ready.json.checks.redisReplicas, true);
  });

  it("answers 503 while no replica is online, says so in /readyz, and accepts again once one is", async () => {
    await pair.replica.stop();
    await waitUntil(async () => (await gw.call("GET", "/readyz")).status === 503, 15_000, "not ready");
    const ready = await gw.call("GET", "/readyz");
    assert.equal(ready.json.checks.redisReplicas, false);
    assert.equal(ready.json.checks.redis, true);

    const refused = await post("without-replica");
    assert.equal(refused.status, 503);
    assert.equal(refused.json.error.code, "HG_ERR_UNAVAILABLE");
    // Refused without a WAIT that could not be answered (it would say how long it waited).
    assert.match(refused.json.error.message, /0 of the 1 Redis replicas required .*no more are online/);

    await pair.replica.restart();
    await waitUntil(async () => (await gw.call("GET", "/readyz")).status === 200, 30_000, "ready again");
    // Sent again, as a sender does after a 503: accepted now, as the duplicate it is (the
    // primary stored it the first time; only the confirmation was missing).
    const again = await post("without-replica");
    assert.equal(again.status, 202, JSON.stringify(again.json));
    assert.deepEqual(again.json.events, [{ id: "without-replica", duplicate: true }]);
  });
});
