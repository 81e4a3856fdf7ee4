import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { Sink } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";

/** While Redis is away the API answers 503 instead of accepting what it cannot store. */

let redis: RedisServer;
let sink: Sink;
let gw: TestGateway;

before(async () => {
  redis = await startRedisServer({ appendonly: true });
  sink = await new Sink().listen();
  gw = await startTestGateway(redis.url);
});

after(async () => {
  await gw?.close();
  await sink?.close();
  await redis?.stop();
});

it("answers 503 while Redis is down, and accepts and delivers again once it is back", async () => {
  const created = await gw.call("POST", "/v1/routes", { name: "r", target: { url: sink.url() } });
  assert.equal(created.status, 201);

  await redis.pause();
  const refused = await gw.call("POST", "/v1/events", { id: "during-outage", type: "t", data: {} });
  assert.equal(refused.status, 503);
  assert.equal(refused.json.error.code, "HG_ERR_UNAVAILABLE");
  const ready = await gw.app.inject({ method: "GET", url: "/readyz" });
  assert.equal(ready.statusCode, 503);

  await redis.resume();
  const accepted = await waitUntil(async () => {
    const res = await gw.call("POST", "/v1/events", { id: "after-outage", type: "t", data: {} });
    return res.status === 202 ? res : undefined;
  });
  assert.deepEqual(accepted.json.events, [{ id: "after-outage", duplicate: false }]);
  const [req] = await sink.waitFor(1, 20_000);
  assert.equal(JSON.parse(req?.body ?? "").id, "after-outage");
  // The refused event was not half-stored: sending it now is not a duplicate.
  const retried = await gw.call("POST", "/v1/events", { id: "during-outage", type: "t", data: {} });
  assert.deepEqual(retried.json.events, [{ id: "during-outage", duplicate: false }]);
});
