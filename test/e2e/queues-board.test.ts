import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

/** Bull Board at /admin/queues: behind the admin token, read-only, over the real delivery queue. */

const fx = useGateway();
const basic = (password: string) => `Basic ${Buffer.from(`anyone:${password}`).toString("base64")}`;
const get = (url: string, authorization?: string) =>
  fx.gw.app.inject({ url, headers: authorization ? { authorization } : {} });

describe("/admin/queues", () => {
  it("asks a browser for the admin token, in the API's error shape", async () => {
    for (const auth of [undefined, basic("wrong-token-0123456789"), "Bearer wrong-token-0123456789"]) {
      const res = await get("/admin/queues", auth);
      assert.equal(res.statusCode, 401, String(auth));
      assert.match(String(res.headers["www-authenticate"]), /^Basic realm="hookgate"/);
      assert.equal(JSON.parse(res.body).error.code, "HG_ERR_UNAUTHORIZED");
    }
    const api = await get("/admin/queues/api/queues");
    assert.equal(api.statusCode, 401, "the board's API too");
  });

  it("serves the board to the token as a Basic password or a bearer", async () => {
    const page = await get("/admin/queues", basic(fx.gw.token));
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<title>Hookgate queues<\/title>/);
    const asset = /src="([^"]+\.js)"/.exec(page.body)?.[1];
    assert.ok(asset, "the page loads its script");
    const script = await get(new URL(asset, "http://x/admin/queues/").pathname, basic(fx.gw.token));
    assert.equal(script.statusCode, 200);
    assert.equal((await get("/admin/queues", `Bearer ${fx.gw.token}`)).statusCode, 200);
  });

  it("shows the delivery queue read-only, with a delivery waiting for its retry", async () => {
    await fx.reset();
    fx.sink.respond = () => ({ status: 503, body: "down" });
    const route = await fx.gw.call("POST", "/v1/routes", {
      name: "board",
      retry: { scheduleMs: [600_000] },
      target: { url: fx.sink.url() },
    });
    assert.equal(route.status, 201);
    await fx.gw.call("POST", "/v1/events", { id: "board-1", type: "messageNew", data: {} });
    await fx.sink.waitFor(1);
    const queue = await waitUntil(async () => {
      const res = await get(
        "/admin/queues/api/queues?activeQueue=deliveries&status=delayed",
        basic(fx.gw.token),
      );
      const q = JSON.parse(res.body).queues.find((x: { name: string }) => x.name === "deliveries");
      return q?.counts.delayed === 1 && q;
    });
    assert.equal(queue.readOnlyMode, true);
    assert.equal(queue.jobs.length, 1);
    assert.equal(queue.jobs[0].data.routeId, route.json.id);
    const retry = await fx.gw.app.inject({
      method: "PUT",
      url: `/admin/queues/api/queues/deliveries/${queue.jobs[0].id}/promote`,
      headers: { authorization: basic(fx.gw.token) },
    });
    assert.ok(retry.statusCode >= 400, `read-only: ${retry.statusCode} ${retry.body}`);
  });
});
