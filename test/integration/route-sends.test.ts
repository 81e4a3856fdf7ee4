import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildRoute, RouteInSchema, RouteStore } from "../../src/routing/index.ts";
import { createRedis, type Redis, waitForRedis } from "../../src/shared/redis.ts";
import { redisKeys } from "../../src/shared/redis-keys.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

let server: RedisServer;
let redis: Redis;
let store: RouteStore;
const keys = redisKeys("t-sends");

before(async () => {
  server = await startRedisServer({ appendonly: false });
  redis = createRedis(server.url);
  await waitForRedis(redis);
  store = new RouteStore(redis, keys);
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

const newRoute = (extra: Record<string, unknown> = {}) =>
  buildRoute(RouteInSchema.parse({ name: "r", target: { url: "https://example.com/h" }, ...extra }));

describe("RouteStore's send fence, batched", () => {
  it("answers each of the sends begun together with its own route's state, and registers only those that may go", async () => {
    const on = newRoute();
    const holding = newRoute({ enabled: false });
    const dropping = newRoute({ enabled: false, whileDisabled: "drop" });
    const deleted = newRoute();
    for (const r of [on, holding, dropping, deleted]) await store.create(r);
    await store.delete(deleted.id);
    const deadline = Date.now() + 60_000;
    // Begun in the same tick: they share one script call.
    const scriptCalls = async () => {
      const stats = await redis.info("commandstats");
      // The first call of a script is an EVAL (EVALSHA answers NOSCRIPT, not counted as a call).
      const calls = (name: string) =>
        Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      return calls("eval") + calls("evalsha");
    };
    const callsBefore = await scriptCalls();
    const states = await Promise.all([
      store.beginSend(on.id, "a", deadline),
      store.beginSend(holding.id, "b", deadline),
      store.beginSend(on.id, "c", deadline),
      store.beginSend(dropping.id, "d", deadline),
      store.beginSend(deleted.id, "e", deadline),
    ]);
    assert.deepEqual(states, ["on", "hold", "on", "drop", "deleted"]);
    assert.equal((await scriptCalls()) - callsBefore, 1, "one script call for the five");
    assert.deepEqual(await redis.zrange(keys.routeSends(on.id), 0, -1), ["a", "c"]);
    for (const r of [holding, dropping, deleted]) assert.equal(await redis.exists(keys.routeSends(r.id)), 0);

    // A delete waits for the registered sends (the waiter resolves only once none is left in
    // flight, and both were registered before it started); ended together, they let it finish.
    let waited = false;
    const waiting = store.untilSendsDone(on.id, 5).then(() => {
      waited = true;
    });
    assert.equal(await redis.zcount(keys.routeSends(on.id), `(${Date.now()}`, "+inf"), 2);
    assert.equal(waited, false);
    await Promise.all([store.endSend(on.id, "a"), store.endSend(on.id, "c")]);
    await waiting;
    assert.equal(await redis.exists(keys.routeSends(on.id)), 0);
  });
});
