import assert from "node:assert/strict";
import { it } from "node:test";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

/** While Redis is away the API answers 503 instead of accepting what it cannot store. */

const fx = useGateway({}, { appendonly: true });

it("answers 503 while Redis is down, and accepts and delivers again once it is back", async () => {
  const created = await fx.gw.call("POST", "/v1/routes", { name: "r", target: { url: fx.sink.url() } });
  assert.equal(created.status, 201);

  await fx.redis.pause();
  const refused = await fx.gw.call("POST", "/v1/events", { id: "during-outage", type: "t", data: {} });
  assert.equal(refused.status, 503);
  assert.equal(refused.json.error.code, "HG_ERR_UNAVAILABLE");
  const ready = await fx.gw.app.inject({ method: "GET", url: "/readyz" });
  assert.equal(ready.statusCode, 503);

  await fx.redis.resume();
  const accepted = await waitUntil(async () => {
    const res = await fx.gw.call("POST", "/v1/events", { id: "after-outage", type: "t", data: {} });
    return res.status === 202 ? res : undefined;
  });
  assert.deepEqual(accepted.json.events, [{ id: "after-outage", duplicate: false }]);
  const [req] = await fx.sink.waitFor(1, 20_000);
  assert.equal(JSON.parse(req?.body ?? "").id, "after-outage");
  // The refused event was not half-stored: sending it now is not a duplicate.
  const retried = await fx.gw.call("POST", "/v1/events", { id: "during-outage", type: "t", data: {} });
  assert.deepEqual(retried.json.events, [{ id: "during-outage", duplicate: false }]);
});
