import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

/** hookgate.* types are the gateway's own: a client cannot post one to make routes believe it. */

let redis: RedisServer;
let gw: TestGateway;

before(async () => {
  redis = await startRedisServer({ appendonly: false });
  gw = await startTestGateway(redis.url);
});

after(async () => {
  await gw?.close();
  await redis?.stop();
});

const spoof = { type: "hookgate.route.disabled", data: { routeId: "rte_x", reason: "spoofed" } };

describe("the hookgate. prefix is reserved", () => {
  it("POST /v1/events refuses a hookgate.* type, alone or in a batch, naming the prefix", async () => {
    for (const body of [spoof, [{ type: "messageNew", data: {} }, spoof], { events: [spoof] }]) {
      const res = await gw.call("POST", "/v1/events", body);
      assert.equal(res.status, 400, JSON.stringify(res.json));
      assert.equal(res.json.error.code, "HG_ERR_VALIDATION");
      const said = JSON.stringify(res.json.error);
      assert.match(said, /the prefix \\"hookgate\.\\" is reserved for Hookgate's own events/);
    }
  });

  it("takes other types, including ones that only look alike", async () => {
    for (const type of ["messageNew", "hookgate", "my.hookgate.route.disabled", "Hookgate.route.disabled"]) {
      const res = await gw.call("POST", "/v1/events", { type, data: {} });
      assert.equal(res.status, 202, `${type}: ${JSON.stringify(res.json)}`);
    }
  });

  it("the dry-run still walks a hookgate.* event, so a route for them can be tried", async () => {
    const saved = await gw.call("POST", "/v1/routes", {
      name: "news",
      events: ["hookgate.*"],
      template: { kind: "slack" },
      target: { url: "http://127.0.0.1:9/news" },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.json));
    const res = await gw.call("POST", "/v1/dry-run", { event: spoof, routeId: saved.json.id });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.results[0].matched, true);
  });
});
