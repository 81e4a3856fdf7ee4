import assert from "node:assert/strict";
import { after, beforeEach, describe, it } from "node:test";
import { Queue } from "bullmq";
import { DELIVERY_QUEUE } from "../../src/shared/redis-keys.ts";
import { type GatewayFixture, useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * First attempts made by the walker itself (HOOKGATE_DIRECT_ATTEMPTS): while a target answers
 * well they go out from the walk with no queue job, recorded with their attempt; a failure is
 * retried through the queue and takes the target off the direct path; a 410 still disables the
 * route. With the setting off, every attempt goes through the queue. Real gateway, Redis, sink.
 */

const queues: Queue[] = [];
after(async () => {
  for (const q of queues) await q.close();
});

/** Jobs the delivery queue has seen finish (completed jobs are kept, up to 1,000). */
async function queueJobs(fx: GatewayFixture): Promise<number> {
  const q = new Queue(DELIVERY_QUEUE, { connection: { url: fx.redis.url }, prefix: fx.gw.prefix });
  queues.push(q);
  const counts = await q.getJobCounts("completed", "failed", "active", "wait", "delayed", "prioritized");
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

async function createRoute(fx: GatewayFixture, path: string) {
  const res = await fx.gw.call("POST", "/v1/routes", {
    name: "direct",
    target: { url: fx.sink.url(path) },
    retry: { scheduleMs: [50, 50, 50] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json as { id: string };
}

async function send(fx: GatewayFixture, ids: string[]) {
  const res = await fx.gw.call(
    "POST",
    "/v1/events",
    ids.map((id) => ({ id, type: "messageNew", data: { id } })),
  );
  assert.equal(res.status, 202, JSON.stringify(res.json));
}

type Delivery = {
  id: string;
  eventId: string;
  status: string;
  attemptCount: number;
  attempts?: { n: number; statusCode: number | null }[];
};

async function settled(fx: GatewayFixture, routeId: string, count: number): Promise<Delivery[]> {
  return waitUntil(
    async () => {
      const res = await fx.gw.call("GET", `/v1/deliveries?routeId=${routeId}&limit=500`);
      const list = res.json.deliveries as Delivery[];
      return list.length === count && list.every((d) => d.status === "succeeded" || d.status === "failed")
        ? list
        : undefined;
    },
    15_000,
    `${count} finished deliveries`,
  );
}

async function attemptsOf(fx: GatewayFixture, id: string) {
  const res = await fx.gw.call("GET", `/v1/deliveries/${id}`);
  assert.equal(res.status, 200);
  return (res.json as Delivery).attempts ?? [];
}

describe("direct first attempts (the default)", () => {
  const fx = useGateway();
  beforeEach(() => fx.reset());

  it("sends from the walk and records each delivery with its attempt, without a queue job", async () => {
    const jobsBefore = await queueJobs(fx);
    const route = await createRoute(fx, "/ok");
    const ids = Array.from({ length: 30 }, (_, i) => `direct-ok-${i}`);
    await send(fx, ids);
    const list = await settled(fx, route.id, 30);
    assert.deepEqual(list.map((d) => d.status).sort(), Array(30).fill("succeeded"));
    assert.ok(list.every((d) => d.attemptCount === 1));
    const attempts = await attemptsOf(fx, list[0]?.id ?? "");
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0]?.statusCode, 200);
    assert.deepEqual(fx.sink.requests.map((r) => JSON.parse(r.body).id).sort(), [...ids].sort());
    assert.equal(await queueJobs(fx), jobsBefore, "no delivery went through the queue");
  });

  it("retries a failed direct attempt through the queue, and sends the next ones through it", async () => {
    const jobsBefore = await queueJobs(fx);
    const route = await createRoute(fx, "/flaky");
    let failed = false;
    fx.sink.respond = () => {
      if (failed) return { status: 200, body: "ok" };
      failed = true;
      return { status: 500, body: "down for a moment" };
    };
    await send(fx, ["flaky-0"]);
    const [first] = await settled(fx, route.id, 1);
    assert.equal(first?.status, "succeeded");
    assert.equal(first?.attemptCount, 2);
    assert.deepEqual(
      (await attemptsOf(fx, first?.id ?? "")).map((a) => [a.n, a.statusCode]),
      [
        [1, 500],
        [2, 200],
      ],
    );
    const retried = await queueJobs(fx);
    assert.equal(retried - jobsBefore, 1, "the retry was one queue job");

    // The target failed a moment ago: its next first attempts go through the queue.
    await send(fx, ["flaky-1", "flaky-2", "flaky-3"]);
    await settled(fx, route.id, 4);
    assert.ok((await queueJobs(fx)) > retried, "later first attempts were queued");
    assert.equal(fx.sink.requests.length, 5);
  });

  it("disables the route when a direct attempt is answered 410 Gone", async () => {
    const route = await createRoute(fx, "/gone");
    fx.sink.respond = () => ({ status: 410, body: "gone" });
    await send(fx, ["gone-0"]);
    const [d] = await settled(fx, route.id, 1);
    assert.equal(d?.status, "failed");
    const res = await fx.gw.call("GET", `/v1/routes/${route.id}`);
    assert.equal(res.json.enabled, false);
    assert.match(String(res.json.disabledReason), /410/);
  });
});

describe("HOOKGATE_DIRECT_ATTEMPTS=off", () => {
  const fx = useGateway({ HOOKGATE_DIRECT_ATTEMPTS: "off" });
  beforeEach(() => fx.reset());

  it("sends every first attempt through the queue", async () => {
    const route = await createRoute(fx, "/queued");
    await send(
      fx,
      Array.from({ length: 10 }, (_, i) => `queued-${i}`),
    );
    const list = await settled(fx, route.id, 10);
    assert.ok(list.every((d) => d.status === "succeeded" && d.attemptCount === 1));
    assert.ok((await queueJobs(fx)) > 0);
  });
});
