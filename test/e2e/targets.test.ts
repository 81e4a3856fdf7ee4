import assert from "node:assert/strict";
import { after, beforeEach, describe, it } from "node:test";
import { type Job, Queue } from "bullmq";
import { MAX_RETRY_AFTER_MS } from "../../src/delivery/index.ts";
import { DELIVERY_QUEUE } from "../../src/shared/redis-keys.ts";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * GET /v1/targets and POST /v1/targets/:id/resume against the real gateway, Redis and a loopback
 * sink: a receiver's far-future Retry-After pauses its target (capped at 6 h), an outage opens
 * its breaker; resume lifts both, and the deliveries held up by them go at once instead of
 * hours later.
 */

const HOUR = 3_600_000;

const queues: Queue[] = [];
after(async () => {
  for (const q of queues) await q.close();
});

type Target = {
  id: string;
  url: string;
  routes: string[];
  pausedUntil: string | null;
  breaker: { state: string; failures: number; openUntil: string | null; failingSince: string | null };
  lanes: { inFlight: number; waiting: number } | null;
  lastSuccessAt: string | null;
  lastAnswers: { at: string; statusCode: number | null; errorCode: string | null; durationMs: number }[];
};
type Delivery = { id: string; eventId: string; status: string; attemptCount: number };

describe("targets", () => {
  // A breaker opened by 3 failures stays open for an hour unless resumed.
  const fx = useGateway({ HOOKGATE_BREAKER_FAILURES: "3", HOOKGATE_BREAKER_COOLDOWN_MS: String(HOUR) });
  beforeEach(() => fx.reset());

  function delayedQueue(): Queue {
    const q = new Queue(DELIVERY_QUEUE, { connection: { url: fx.redis.url }, prefix: fx.gw.prefix });
    queues.push(q);
    return q;
  }

  async function createRoute(url: string, scheduleMs = [HOUR, HOUR, HOUR]): Promise<string> {
    const res = await fx.gw.call("POST", "/v1/routes", { name: "t", target: { url }, retry: { scheduleMs } });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    return res.json.id;
  }

  async function send(id: string): Promise<void> {
    const res = await fx.gw.call("POST", "/v1/events", { id, type: "messageNew", data: { id } });
    assert.equal(res.status, 202, JSON.stringify(res.json));
  }

  async function deliveryOf(routeId: string, eventId: string, status: string): Promise<Delivery> {
    return waitUntil(
      async () => {
        const res = await fx.gw.call("GET", `/v1/deliveries?routeId=${routeId}&limit=500`);
        const d = (res.json.deliveries as Delivery[]).find((x) => x.eventId === eventId);
        return d?.status === status ? d : undefined;
      },
      15_000,
      `delivery of ${eventId} ${status}`,
    );
  }

  /** Waits until the delivery's attempt was refused and put back in the delayed set. */
  async function heldInQueue(q: Queue, deliveryId: string): Promise<void> {
    await waitUntil(
      async () => ((await q.getDelayed()) as Job[]).some((j) => j.data?.deliveryId === deliveryId),
      15_000,
      `a delayed job for ${deliveryId}`,
    );
  }

  async function targetOfRoute(routeId: string): Promise<Target> {
    const res = await fx.gw.call("GET", "/v1/targets");
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const t = (res.json.targets as Target[]).find((x) => x.routes.includes(routeId));
    assert.ok(t, `a target lists route ${routeId}`);
    return t;
  }

  it("shows a far-future Retry-After as a pause capped at 6 h; resume lifts it and held deliveries go at once", async () => {
    const q = delayedQueue();
    const routeId = await createRoute(fx.sink.url("/slow-down"));
    fx.sink.respond = () => ({ status: 429, headers: { "retry-after": "86400" }, body: "slow down" });
    const before = Date.now();
    await send("ra-1");
    const first = await deliveryOf(routeId, "ra-1", "retrying");
    const t = await targetOfRoute(routeId);
    const seen = Date.now();
    assert.ok(t.pausedUntil, "paused");
    const pausedUntil = Date.parse(t.pausedUntil);
    assert.ok(
      pausedUntil >= before + MAX_RETRY_AFTER_MS && pausedUntil <= seen + MAX_RETRY_AFTER_MS,
      `paused 6 h (the cap), not the 24 h asked: ${t.pausedUntil}`,
    );
    assert.equal(t.breaker.state, "closed", "a 429 is an answer, not an outage");
    assert.equal(t.lastAnswers[0]?.statusCode, 429);
    assert.equal(t.lastAnswers[0]?.errorCode, null);
    assert.ok(Date.parse(t.lastAnswers[0]?.at ?? "") >= before);
    assert.match(t.id, /^tgt_[0-9a-f]+$/);
    assert.equal(t.url, fx.sink.url("/slow-down"));
    assert.deepEqual(t.lanes, { inFlight: 0, waiting: 0 });

    // Another delivery to the paused target waits in the delayed set, unsent.
    await send("ra-2");
    const second = await deliveryOf(routeId, "ra-2", "pending");
    await heldInQueue(q, second.id);
    assert.equal(fx.sink.requests.length, 1, "nothing sent while paused");

    fx.sink.respond = () => ({ status: 200, body: "ok" });
    const res = await fx.gw.call("POST", `/v1/targets/${t.id}/resume`);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.pausedUntil, null);
    assert.equal(res.json.id, t.id);

    // Both go now: the 429's retry (due in 6 h) and the deferred one (held for 6 h).
    await deliveryOf(routeId, "ra-1", "succeeded");
    await deliveryOf(routeId, "ra-2", "succeeded");
    const sent = fx.sink.requests.map((r) => JSON.parse(r.body).id as string);
    assert.equal(sent[0], "ra-1");
    assert.deepEqual(sent.slice(1).sort(), ["ra-1", "ra-2"], "each sent once more, no more");
    const retried = await fx.gw.call("GET", `/v1/deliveries/${first.id}`);
    assert.equal(retried.json.attemptCount, 2);

    const now = await fx.gw.call("GET", `/v1/targets/${t.id}`);
    assert.equal(now.status, 200);
    assert.equal(now.json.pausedUntil, null);
    const codes = (now.json as Target).lastAnswers.map((a) => a.statusCode);
    assert.ok(codes.includes(429), `the 429 is still listed: ${codes}`);
    assert.equal(codes[0], 200, "the success that ended the trouble comes first");
    assert.ok(now.json.lastSuccessAt, "a success was noted");
  });

  it("closes a breaker that 3 failures opened; the retries and deferrals waiting on it go at once", async () => {
    const q = delayedQueue();
    const routeId = await createRoute(fx.sink.url("/down"));
    fx.sink.respond = () => ({ status: 500, body: "down" });
    for (const id of ["br-1", "br-2", "br-3"]) {
      await send(id);
      await deliveryOf(routeId, id, "retrying");
    }
    const t = await targetOfRoute(routeId);
    assert.equal(t.breaker.state, "open");
    assert.equal(t.breaker.failures, 3);
    assert.ok(Date.parse(t.breaker.openUntil ?? "") > Date.now(), "open for its cooldown");
    assert.ok(t.breaker.failingSince);
    assert.deepEqual(
      t.lastAnswers.map((a) => a.statusCode),
      [500, 500, 500],
    );
    assert.equal(t.pausedUntil, null);

    // The breaker holds the next delivery back: refused and put in the delayed set, unsent.
    await send("br-4");
    const fourth = await deliveryOf(routeId, "br-4", "pending");
    await heldInQueue(q, fourth.id);
    assert.equal(fx.sink.requests.length, 3);

    fx.sink.respond = () => ({ status: 200, body: "ok" });
    const res = await fx.gw.call("POST", `/v1/targets/${t.id}/resume`);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(
      {
        state: res.json.breaker.state,
        failures: res.json.breaker.failures,
        openUntil: res.json.breaker.openUntil,
      },
      { state: "closed", failures: 0, openUntil: null },
    );
    assert.equal(res.json.breaker.failingSince, t.breaker.failingSince, "no success has come yet");

    // The gate of this worker had the breaker open in memory: it asks Redis again and sends.
    for (const id of ["br-1", "br-2", "br-3", "br-4"]) await deliveryOf(routeId, id, "succeeded");
    const healed = await targetOfRoute(routeId);
    assert.equal(healed.breaker.state, "closed");
    assert.equal(healed.breaker.failingSince, null, "the first success cleared it");
  });

  it("groups routes by endpoint and never shows the query their tokens travel in", async () => {
    const a = await createRoute(`http://127.0.0.1:${fx.sink.port}/shared?token=tok-abc`);
    const b = await createRoute(`http://127.0.0.1:${fx.sink.port}/shared?token=tok-def`);
    const c = await createRoute(fx.sink.url("/other"));
    const res = await fx.gw.call("GET", "/v1/targets");
    assert.equal(res.status, 200);
    const targets = res.json.targets as Target[];
    assert.deepEqual(
      targets.map((t) => [t.url, t.routes]),
      [
        [`http://127.0.0.1:${fx.sink.port}/shared`, [a, b]],
        [fx.sink.url("/other"), [c]],
      ],
    );
    const text = JSON.stringify(res.json);
    for (const secret of ["tok-abc", "tok-def"]) assert.ok(!text.includes(secret), secret);
    const one = await fx.gw.call("GET", `/v1/targets/${targets[0]?.id}`);
    assert.deepEqual(one.json, targets[0]);
    const fresh = targets[1] as Target;
    assert.deepEqual(
      { pausedUntil: fresh.pausedUntil, breaker: fresh.breaker, lastAnswers: fresh.lastAnswers },
      {
        pausedUntil: null,
        breaker: { state: "closed", failures: 0, openUntil: null, failingSince: null },
        lastAnswers: [],
      },
    );
  });

  it("answers 404 in the one error shape for a target no route sends to", async () => {
    await createRoute(fx.sink.url("/known"));
    for (const [method, url] of [
      ["GET", "/v1/targets/tgt_0000000000000000000000"],
      ["POST", "/v1/targets/tgt_0000000000000000000000/resume"],
      ["GET", "/v1/targets/not-a-target"],
    ] as const) {
      const res = await fx.gw.call(method, url);
      assert.equal(res.status, 404, `${method} ${url}`);
      assert.equal(res.json.error.code, "HG_ERR_NOT_FOUND");
      assert.equal(typeof res.json.error.message, "string");
      assert.deepEqual(Object.keys(res.json), ["error"]);
    }
    // A deleted route's target is no longer listed.
    const gone = await createRoute(fx.sink.url("/gone"));
    const t = await targetOfRoute(gone);
    await fx.gw.call("DELETE", `/v1/routes/${gone}`);
    assert.equal((await fx.gw.call("GET", `/v1/targets/${t.id}`)).status, 404);
  });
});
