import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Redis } from "ioredis";
import { useGateway } from "../helpers/fixture.ts";
import type { SinkRequest } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * Hookgate's own events through the user's routes (issue 20): emitted where things happen,
 * walked like any event, delivered only to routes that ask for hookgate.*, never to the route
 * they are about, and a failed delivery of one of them is not news again.
 */

const fx = useGateway();
beforeEach(() => fx.reset());

async function createRoute(
  name: string,
  path: string,
  events: string[],
  fields: Record<string, unknown> = {},
) {
  const res = await fx.gw.call("POST", "/v1/routes", {
    name,
    events,
    target: { url: fx.sink.url(path), signing: { scheme: "none" } },
    retry: { scheduleMs: [50] },
    ...fields,
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json as { id: string };
}

interface DeliveryRow {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
}

async function deliveriesOf(routeId: string): Promise<DeliveryRow[]> {
  const res = await fx.gw.call("GET", `/v1/deliveries?routeId=${routeId}&limit=100`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.deliveries;
}

const bodies = (path: string) =>
  fx.sink.requests.filter((r: SinkRequest) => r.url === path).map((r) => JSON.parse(r.body));

async function streamWalked() {
  const redis = new Redis(fx.redis.url);
  try {
    await waitUntil(async () => (await redis.xlen(`${fx.gw.prefix}:events`)) === 0, 15_000, "the walks");
  } finally {
    redis.disconnect();
  }
}

describe("hookgate.* events through routes", () => {
  it("a route disabled by a 410 produces hookgate.route.disabled, which a second route delivers; a * route does not get it", async () => {
    fx.sink.respond = (r) =>
      r.url === "/gone" ? { status: 410, body: "gone" } : { status: 200, body: "ok" };
    const gone = await createRoute("mail to a gone hook", "/gone", ["messageNew"]);
    const ops = await createRoute("ops channel", "/ops", ["hookgate.*"]);
    const all = await createRoute("everything", "/all", ["*"]);
    const posted = await fx.gw.call("POST", "/v1/events", { type: "messageNew", data: { n: 1 } });
    assert.equal(posted.status, 202);

    const news = await waitUntil(
      () => bodies("/ops").find((b) => b.type === "hookgate.route.disabled"),
      15_000,
      "hookgate.route.disabled at the ops sink",
    );
    assert.equal(news.source, "hookgate");
    assert.equal(news.sourceKind, "hookgate");
    assert.equal(news.data.routeId, gone.id);
    assert.equal(news.data.by, "hookgate");
    assert.match(news.data.reason, /410/);
    const route = await fx.gw.call("GET", `/v1/routes/${gone.id}`);
    assert.equal(route.json.enabled, false);
    assert.equal(news.data.routeVersion, route.json.version);

    // The walk of that event recorded all its deliveries at once: the ops route's is there, so
    // the * route's would be too.
    const opsRows = await waitUntil(async () => {
      const rows = await deliveriesOf(ops.id);
      return rows.some((d) => d.eventId === news.id) && rows;
    });
    assert.ok(
      opsRows.some((d) => d.eventType === "hookgate.delivery.failed"),
      "the failed delivery is news too",
    );
    const allRows = await deliveriesOf(all.id);
    assert.deepEqual(
      allRows.filter((d) => d.eventType.startsWith("hookgate.")),
      [],
      "a route for * does not get the gateway's events",
    );
    assert.ok(allRows.some((d) => d.eventType === "messageNew"));

    // Turned on again through the API: hookgate.route.enabled, naming the key.
    const on = await fx.gw.call("PATCH", `/v1/routes/${gone.id}`, { enabled: true });
    assert.equal(on.status, 200);
    const enabled = await waitUntil(
      () => bodies("/ops").find((b) => b.type === "hookgate.route.enabled"),
      15_000,
      "hookgate.route.enabled",
    );
    assert.equal(enabled.data.routeId, gone.id);
    assert.equal(enabled.data.keyId, "admin");
    assert.match(enabled.data.previousReason, /410/);
  });

  it("a route for hookgate.* whose own target answers 410 does not feed itself", async () => {
    fx.sink.respond = (r) =>
      r.url === "/mail" || r.url === "/loop" ? { status: 410, body: "gone" } : { status: 200, body: "ok" };
    const mail = await createRoute("mail", "/mail", ["messageNew"]);
    // Off, it holds what it would deliver: the news about itself would be held here too.
    const loop = await createRoute("ops that fails", "/loop", ["hookgate.*"]);
    const watch = await createRoute("watcher", "/watch", ["hookgate.*"]);
    await fx.gw.call("POST", "/v1/events", { type: "messageNew", data: { n: 1 } });

    // The loop route fails on the news of the mail route's trouble and is disabled in turn.
    const loopOff = await waitUntil(
      () => bodies("/watch").find((b) => b.type === "hookgate.route.disabled" && b.data.routeId === loop.id),
      15_000,
      "the loop route's own disabling, at the watcher",
    );
    // Everything accepted up to then has been walked: the news about the loop route included.
    await streamWalked();
    const loopRows = await deliveriesOf(loop.id);
    assert.ok(loopRows.length >= 1 && loopRows.length <= 2, JSON.stringify(loopRows));
    assert.ok(
      !loopRows.some((d) => d.eventId === loopOff.id),
      "the news about itself is not delivered to it",
    );
    for (const body of bodies("/loop")) assert.notEqual(body.data.routeId, loop.id);

    // Its failed delivery of a hookgate event is not news again: the one delivery.failed the
    // watcher got is about the mail route's delivery.
    const watchRows = await deliveriesOf(watch.id);
    const failedNews = watchRows.filter((d) => d.eventType === "hookgate.delivery.failed");
    assert.equal(failedNews.length, 1, JSON.stringify(watchRows));
    const failedBodies = bodies("/watch").filter((b) => b.type === "hookgate.delivery.failed");
    assert.equal(failedBodies.length, 1);
    assert.equal(failedBodies[0].data.routeId, mail.id);
    assert.equal(failedBodies[0].data.eventType, "messageNew");
  });
});
