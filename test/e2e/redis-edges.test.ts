import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Redis } from "ioredis";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * Redis at its edges (issue 15 items 3 and 4): emptied under a running gateway, and full
 * (maxmemory with noeviction). Nothing accepted is lost or sent twice.
 */

const fx = useGateway();
beforeEach(() => fx.reset());

async function createRoute() {
  const res = await fx.gw.call("POST", "/v1/routes", {
    name: "all",
    target: { url: fx.sink.url(), signing: { scheme: "none" } },
    retry: { scheduleMs: [50, 100, 200] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;
}

function admin() {
  return new Redis(fx.redis.url);
}

describe("Redis loses its data", () => {
  it("the walker makes its group again and events are delivered, without a restart", async () => {
    await createRoute();
    assert.equal((await fx.gw.call("POST", "/v1/events", { type: "before", data: {} })).status, 202);
    await waitUntil(() => fx.sink.requests.length === 1, 15_000, "the first delivery");
    const redis = admin();
    await redis.flushall();
    // Everything is gone, routes too: a new one, and the next event reaches it.
    await createRoute();
    const after = await fx.gw.call("POST", "/v1/events", { type: "after", data: { marker: "after-flush" } });
    assert.equal(after.status, 202);
    await waitUntil(
      () => fx.sink.requests.some((r) => r.body.includes("after-flush")),
      15_000,
      "an event posted after the flush",
    );
    const ready = await fx.gw.call("GET", "/readyz");
    assert.equal(ready.status, 200, JSON.stringify(ready.json));
    redis.disconnect();
  });
});

describe("Redis is full", () => {
  it("attempts in flight when Redis fills up are recorded once it has room, not sent again", async () => {
    await createRoute();
    const redis = admin();
    fx.sink.respond = () => ({ status: 200, body: "ok", delayMs: 300 });
    const batch = Array.from({ length: 200 }, (_, i) => ({ type: "t", data: { i } }));
    const posted = await fx.gw.call("POST", "/v1/events", batch);
    assert.equal(posted.status, 202);
    const ids = (posted.json.events as { id: string }[]).map((e) => e.id);
    await waitUntil(() => fx.sink.requests.length > 0, 15_000, "attempts in flight");
    const used = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
    await redis.config("SET", "maxmemory", String(Math.floor(used * 0.9)));
    await waitUntil(async () => (await fx.gw.call("GET", "/readyz")).status === 503, 15_000, "not ready");
    const sentWhileFull = fx.sink.requests.length;
    await redis.config("SET", "maxmemory", "0");
    const deliveredIds = () => fx.sink.requests.map((r) => (JSON.parse(r.body) as { id: string }).id);
    await waitUntil(() => new Set(deliveredIds()).size === ids.length, 60_000, "every event delivered");
    const counts = new Map<string, number>();
    for (const id of deliveredIds()) counts.set(id, (counts.get(id) ?? 0) + 1);
    assert.deepEqual(
      [...counts].filter(([, n]) => n > 1),
      [],
      "no event was sent twice",
    );
    assert.ok(sentWhileFull < ids.length, "Redis filled up while events were still being delivered");
    redis.disconnect();
  });

  it("refuses events with 503 HG_ERR_STORAGE_FULL, says not ready, and sends each accepted event once", async () => {
    await createRoute();
    const redis = admin();
    const accepted: string[] = [];
    let refused: { status: number; json: { error: { code: string } } } | null = null;
    const used = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);
    // Below what is in use: every write is refused from now on.
    await redis.config("SET", "maxmemory", String(Math.floor(used * 0.9)));
    for (let i = 0; i < 2000 && !refused; i++) {
      const res = await fx.gw.call("POST", "/v1/events", { type: "t", data: { i, pad: "x".repeat(500) } });
      if (res.status === 202) accepted.push(res.json.events[0].id);
      else refused = res;
    }
    assert.ok(refused, "a full Redis refused an event");
    assert.equal(refused.status, 503);
    assert.equal(refused.json.error.code, "HG_ERR_STORAGE_FULL");
    const notReady = await waitUntil(async () => {
      const r = await fx.gw.call("GET", "/readyz");
      return r.status === 503 && r;
    });
    assert.equal(notReady.json.checks.redisMemory, false);
    await redis.config("SET", "maxmemory", "0");
    await waitUntil(async () => (await fx.gw.call("GET", "/readyz")).status === 200, 15_000, "ready again");
    const last = await fx.gw.call("POST", "/v1/events", { type: "t", data: { marker: "after-full" } });
    assert.equal(last.status, 202);
    accepted.push(last.json.events[0].id);
    const deliveredEvents = () =>
      fx.sink.requests
        .map((r) => (JSON.parse(r.body) as { id: string }).id)
        .filter((id) => accepted.includes(id));
    await waitUntil(
      () => new Set(deliveredEvents()).size === accepted.length,
      30_000,
      "every accepted event",
    );
    const counts = new Map<string, number>();
    for (const id of deliveredEvents()) counts.set(id, (counts.get(id) ?? 0) + 1);
    assert.deepEqual(
      [...counts].filter(([, n]) => n > 1),
      [],
      "no event was sent twice",
    );
    redis.disconnect();
  });
});
