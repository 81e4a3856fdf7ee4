import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { HookgateError } from "../../src/errors.ts";
import { buildRoute, RouteInSchema, RouteStore, rotateRouteSecret } from "../../src/routing/index.ts";
import { createRedis, type Redis, waitForRedis } from "../../src/shared/redis.ts";
import { redisKeys } from "../../src/shared/redis-keys.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

let server: RedisServer;
let redis: Redis;
let store: RouteStore;

before(async () => {
  server = await startRedisServer({ appendonly: false });
  redis = createRedis(server.url);
  await waitForRedis(redis);
  store = new RouteStore(redis, redisKeys("t-update"));
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

const newRoute = () =>
  buildRoute(RouteInSchema.parse({ name: "r", target: { url: "https://example.com/h" } }));

describe("RouteStore.update", () => {
  it("starts again from the stored route when another request changed it in between", async () => {
    const route = newRoute();
    await store.create(route);
    let calls = 0;
    const rotated = await store.update(route.id, (current) => {
      calls++;
      if (calls === 1) {
        // Another request renames the route after this one read it.
        void store.replace({ ...current, name: "renamed", version: current.version + 1 });
      }
      return rotateRouteSecret(current, { graceS: 60 });
    });
    assert.equal(calls, 2);
    assert.ok(rotated);
    const stored = await store.require(route.id);
    assert.equal(stored.name, "renamed", "the concurrent change is kept");
    assert.equal(stored.version, 3);
    assert.equal(stored.target.signing.secret, rotated.target.signing.secret);
    assert.equal(stored.previousSecrets?.[0]?.secret, route.target.signing.secret);
  });

  it("answers HG_ERR_NOT_FOUND for a missing route and stores nothing when the change is null", async () => {
    await assert.rejects(
      store.update("rte_missing", (r) => r),
      (err) => err instanceof HookgateError && err.code === "HG_ERR_NOT_FOUND",
    );
    const route = newRoute();
    await store.create(route);
    assert.equal(await store.update(route.id, () => null), null);
    assert.equal((await store.require(route.id)).version, 1);
  });

  it("gives up with HG_ERR_CONFLICT after its attempts", async () => {
    const route = newRoute();
    await store.create(route);
    await assert.rejects(
      store.update(
        route.id,
        // Always one version behind what is stored by the time it writes.
        (current) => ({ ...current, version: current.version }),
        3,
      ),
      (err) => err instanceof HookgateError && err.code === "HG_ERR_CONFLICT",
    );
  });
});
