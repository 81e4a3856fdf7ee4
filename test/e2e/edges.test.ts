import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Redis } from "ioredis";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * The promise at its edges (issue 15): nothing accepted is lost, nothing is marked delivered that
 * was not. Each case failed before its fix.
 */

const fx = useGateway();
beforeEach(() => fx.reset());

async function createRoute(fields: Record<string, unknown> = {}) {
  const res = await fx.gw.call("POST", "/v1/routes", {
    name: "r",
    target: { url: fx.sink.url(), signing: { scheme: "none" } },
    retry: { scheduleMs: [50, 50] },
    ...fields,
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;
}

async function post(data: Record<string, unknown>, type = "messageNew") {
  const res = await fx.gw.call("POST", "/v1/events", { type, data });
  assert.equal(res.status, 202, JSON.stringify(res.json));
  return res.json.events[0].id as string;
}

async function deliveries(query: string) {
  const res = await fx.gw.call("GET", `/v1/deliveries?${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.deliveries as {
    id: string;
    status: string;
    eventId: string;
    error: { code: string } | null;
  }[];
}

async function settledDelivery(routeId: string, eventId: string, statuses: string[]) {
  return waitUntil(
    async () =>
      (await deliveries(`routeId=${routeId}`)).find(
        (d) => d.eventId === eventId && statuses.includes(d.status),
      ),
    15_000,
    `a delivery of ${eventId} in ${statuses.join("/")}`,
  );
}

/** Waits until every accepted event was walked and its deliveries recorded (the stream is empty). */
async function walked() {
  const redis = new Redis(fx.redis.url);
  try {
    await waitUntil(async () => (await redis.xlen(`${fx.gw.prefix}:events`)) === 0, 15_000, "the walks");
  } finally {
    redis.disconnect();
  }
}

/** Waits for a sentinel event's request on the given sink path: everything sent before it has arrived. */
async function sentinel(path: string) {
  const sink = fx.sink;
  const marker = `sentinel-${Math.random().toString(36).slice(2)}`;
  await post({ marker }, "sentinel");
  await waitUntil(
    () => sink.requests.some((r) => r.url === path && r.body.includes(marker)),
    15_000,
    "the sentinel",
  );
}

describe("retry and redrive of a delivery whose walk made no body", () => {
  it("walks the event again with the route's current template, never sends an empty body", async () => {
    // Triple-stash puts the subject in raw: with a quote in it, not JSON.
    const route = await createRoute({ template: { kind: "json", body: '{"s": {{{data.subject}}} }' } });
    const eventId = await post({ subject: "Invoice 42" });
    const failed = await settledDelivery(route.id, eventId, ["failed"]);
    assert.equal(failed.error?.code, "HG_ERR_TEMPLATE_RENDER");
    const fixed = await fx.gw.call("PATCH", `/v1/routes/${route.id}`, {
      template: { kind: "json", body: '{"s": {{json data.subject}}}' },
    });
    assert.equal(fixed.status, 200, JSON.stringify(fixed.json));
    const retried = await fx.gw.call("POST", `/v1/deliveries/${failed.id}/retry`);
    assert.equal(retried.status, 202, JSON.stringify(retried.json));
    assert.equal(retried.json.routeVersion, fixed.json.version);
    await settledDelivery(route.id, eventId, ["succeeded"]);
    const sent = fx.sink.requests.filter(
      (r) => r.headers["webhook-id"] === failed.id || r.body.includes("Invoice"),
    );
    assert.equal(sent.length, 1);
    assert.deepEqual(JSON.parse(sent[0]?.body ?? ""), { s: "Invoice 42" });
  });

  it("a redrive walks failed walks again; one that still fails stays failed with the new walk's error", async () => {
    const route = await createRoute({
      map: 'export default (e) => { if (e.data.n > 0) throw new Error("boom " + e.data.n); return e.data; }',
    });
    const ids = [await post({ n: 1 }), await post({ n: 2 })];
    for (const id of ids) await settledDelivery(route.id, id, ["failed"]);
    // The new map still throws for n = 2.
    const patched = await fx.gw.call("PATCH", `/v1/routes/${route.id}`, {
      map: 'export default (e) => { if (e.data.n > 1) throw new Error("still " + e.data.n); return e.data; }',
    });
    assert.equal(patched.status, 200);
    const since = new Date(Date.now() - 60_000).toISOString();
    const redrive = await fx.gw.call("POST", `/v1/routes/${route.id}/redrive`, { since });
    assert.equal(redrive.status, 202, JSON.stringify(redrive.json));
    assert.equal(redrive.json.redriven, 1);
    assert.equal(redrive.json.notSent.length, 1);
    assert.equal(redrive.json.notSent[0].code, "HG_ERR_CONFLICT");
    assert.match(redrive.json.notSent[0].message, /still 2/);
    await settledDelivery(route.id, ids[0] as string, ["succeeded"]);
    const second = await settledDelivery(route.id, ids[1] as string, ["failed"]);
    const full = await fx.gw.call("GET", `/v1/deliveries/${second.id}`);
    assert.equal(full.json.error.code, "HG_ERR_SANDBOX_THROW");
    assert.match(full.json.error.message, /still 2/);
    assert.equal(full.json.attemptCount, 0, "nothing was sent for it");
    await sentinel("/hook");
    const bodies = fx.sink.requests
      .filter((r) => !r.body.includes("sentinel"))
      .map((r) => JSON.parse(r.body));
    assert.deepEqual(bodies, [{ n: 1 }]);
  });

  it("answers 409 HG_ERR_EVENT_GONE when the event is no longer kept", async () => {
    const route = await createRoute({ map: 'export default () => { throw new Error("no"); }' });
    const eventId = await post({ subject: "x" });
    const failed = await settledDelivery(route.id, eventId, ["failed"]);
    // As records written before events were kept with them.
    const redis = new Redis(fx.redis.url);
    await redis.hdel(`${fx.gw.prefix}:dlv:${failed.id}`, "event");
    redis.disconnect();
    await fx.gw.call("PATCH", `/v1/routes/${route.id}`, { map: null });
    const retried = await fx.gw.call("POST", `/v1/deliveries/${failed.id}/retry`);
    assert.equal(retried.status, 409);
    assert.equal(retried.json.error.code, "HG_ERR_EVENT_GONE");
    const after = await fx.gw.call("GET", `/v1/deliveries/${failed.id}`);
    assert.equal(after.json.status, "failed");
  });
});

describe("a route that is turned off holds what it would have delivered", () => {
  it("a route disabled by a 410 holds later events and sends them in order when turned on", async () => {
    const route = await createRoute({ retry: { scheduleMs: [50] } });
    fx.sink.respond = () => ({ status: 410, body: "gone" });
    const first = await post({ n: 0 });
    await settledDelivery(route.id, first, ["failed"]);
    await waitUntil(async () => (await fx.gw.call("GET", `/v1/routes/${route.id}`)).json.enabled === false);
    fx.sink.respond = () => ({ status: 200, body: "ok" });
    const later = [];
    for (let n = 1; n <= 5; n++) later.push(await post({ n }));
    for (const id of later) await settledDelivery(route.id, id, ["held"]);
    assert.equal((await deliveries(`status=held&routeId=${route.id}`)).length, 5);
    const requestsWhileOff = fx.sink.requests.length;
    const on = await fx.gw.call("PATCH", `/v1/routes/${route.id}`, { enabled: true });
    assert.equal(on.status, 200);
    for (const id of later) await settledDelivery(route.id, id, ["succeeded"]);
    const sent = fx.sink.requests.slice(requestsWhileOff).map((r) => JSON.parse(r.body).data.n);
    assert.deepEqual(sent, [1, 2, 3, 4, 5]);
    assert.equal((await deliveries(`status=held&routeId=${route.id}`)).length, 0);
  });

  it("a retry that comes due while the route is off is held, and resumes when it is turned on", async () => {
    const route = await createRoute({ retry: { scheduleMs: [300, 300, 300] } });
    let failing = true;
    fx.sink.respond = () => (failing ? { status: 500, body: "down" } : { status: 200, body: "ok" });
    const eventId = await post({ n: 1 });
    await settledDelivery(route.id, eventId, ["retrying"]);
    assert.equal((await fx.gw.call("PATCH", `/v1/routes/${route.id}`, { enabled: false })).status, 200);
    const held = await settledDelivery(route.id, eventId, ["held"]);
    failing = false;
    await fx.gw.call("PATCH", `/v1/routes/${route.id}`, { enabled: true });
    await settledDelivery(route.id, eventId, ["succeeded"]);
    const full = await fx.gw.call("GET", `/v1/deliveries/${held.id}`);
    assert.deepEqual(full.json.attempts.map((a: { statusCode: number }) => a.statusCode).slice(-1), [200]);
  });

  it("whileDisabled drop: a user's explicit choice, visible on the route; held ones can be dropped", async () => {
    const route = await createRoute({ whileDisabled: "drop" });
    assert.equal(route.whileDisabled, "drop");
    await fx.gw.call("PATCH", `/v1/routes/${route.id}`, { enabled: false });
    const dropped = await post({ n: 1 });
    await walked();
    // Turned back to hold: the next events are held; then dropped by request.
    await fx.gw.call("PATCH", `/v1/routes/${route.id}`, { whileDisabled: "hold" });
    const kept = await post({ n: 2 });
    await settledDelivery(route.id, kept, ["held"]);
    const drop = await fx.gw.call("POST", `/v1/routes/${route.id}/held/drop`);
    assert.equal(drop.status, 200, JSON.stringify(drop.json));
    assert.equal(drop.json.dropped, 1);
    const after = await settledDelivery(route.id, kept, ["failed"]);
    assert.equal(after.error?.code, "HG_ERR_HELD_DROPPED");
    assert.equal((await deliveries(`routeId=${route.id}`)).filter((d) => d.eventId === dropped).length, 0);
    // Turned on: nothing held is left to send; the next event goes.
    await fx.gw.call("PATCH", `/v1/routes/${route.id}`, { enabled: true });
    await settledDelivery(route.id, await post({ n: 3 }), ["succeeded"]);
    assert.deepEqual(
      fx.sink.requests.map((r) => JSON.parse(r.body).data.n),
      [3],
    );
  });
});

describe("a deleted route", () => {
  it("sends nothing once its DELETE was answered, though deliveries were queued and on their way to it", async () => {
    const doomed = await createRoute({
      events: ["messageNew"],
      target: { url: fx.sink.url("/doomed"), signing: { scheme: "none" }, maxConcurrency: 2 },
    });
    await createRoute({
      events: ["sentinel"],
      target: { url: fx.sink.url("/other"), signing: { scheme: "none" } },
    });
    // Slow answers and two lanes keep most deliveries queued, some in flight, when the delete comes.
    fx.sink.respond = (r) => (r.url === "/doomed" ? { status: 200, delayMs: 30 } : { status: 200 });
    const batch = Array.from({ length: 100 }, (_, i) => ({ type: "messageNew", data: { i } }));
    assert.equal((await fx.gw.call("POST", "/v1/events", batch)).status, 202);
    await waitUntil(
      () => fx.sink.requests.filter((r) => r.url === "/doomed").length >= 4,
      15_000,
      "some requests",
    );
    const deleted = await fx.gw.call("DELETE", `/v1/routes/${doomed.id}`);
    const answeredAt = Date.now();
    assert.equal(deleted.status, 204);
    await sentinel("/other");
    const late = fx.sink.requests.filter((r) => r.url === "/doomed" && r.at > answeredAt);
    assert.deepEqual(
      late.map((r) => r.at - answeredAt),
      [],
    );
    assert.ok(fx.sink.requests.filter((r) => r.url === "/doomed").length < 100, "the delete came mid-way");
    // What was not sent says why.
    const records = await waitUntil(
      async () => {
        const all = await deliveries(`routeId=${doomed.id}&limit=500`);
        return all.every((d) => d.status === "succeeded" || d.status === "failed") && all;
      },
      30_000,
      "every delivery of the deleted route to end",
    );
    assert.equal(records.length, 100);
    for (const d of records.filter((r) => r.status !== "succeeded")) {
      assert.equal(d.status, "failed");
      assert.equal(d.error?.code, "HG_ERR_ROUTE_DELETED");
    }
  });
});
