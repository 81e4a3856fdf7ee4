import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import type { HookgateEvent } from "../../src/events/index.ts";
import { EventIntake } from "../../src/ingest/index.ts";
import { OwnEvents } from "../../src/own-events/index.ts";
import { redisKeys } from "../../src/shared/redis-keys.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

/** OwnEvents against a real Redis intake, with an injected clock. */
describe("OwnEvents", () => {
  let server: RedisServer;
  let redis: Redis;
  before(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });

  async function rig(prefix: string) {
    const keys = redisKeys(prefix);
    let now = Date.parse("2025-05-14T10:00:10.000Z");
    const own = new OwnEvents(new EventIntake(redis, keys, 3600), {
      now: () => now,
      flushEveryMs: 3_600_000,
    });
    const stored = async () =>
      ((await redis.xrange(keys.events, "-", "+")) as [string, string[]][]).map(
        ([, f]) => JSON.parse(f[1] ?? "{}") as HookgateEvent,
      );
    return { own, stored, tick: (ms: number) => (now += ms) };
  }

  it("summarises a source's authentication failures per minute, not one event per request", async () => {
    const { own, stored, tick } = await rig("own1");
    for (let i = 0; i < 25; i++) own.sourceRejected("src_a", "emailengine", "HG_ERR_UNAUTHORIZED");
    own.flushRejections();
    await own.settled();
    assert.equal((await stored()).length, 0, "the minute is not over");
    tick(60_000);
    own.sourceRejected("src_a", "emailengine", "HG_ERR_UNAUTHORIZED");
    await own.settled();
    const events = await stored();
    assert.equal(events.length, 1);
    assert.equal(events[0]?.type, "hookgate.source.rejected");
    assert.equal(events[0]?.sourceKind, "hookgate");
    assert.deepEqual(events[0]?.data, {
      sourceId: "src_a",
      sourceKind: "emailengine",
      minute: "2025-05-14T10:00:00.000Z",
      count: 25,
      codes: { HG_ERR_UNAUTHORIZED: 25 },
    });
    await own.close();
    assert.equal((await stored()).length, 2, "close emits the minute in progress");
    assert.equal(((await stored())[1]?.data as { count: number } | undefined)?.count, 1);
  });

  it("emits no delivery.failed for a delivery of a hookgate event; one breaker_opened per failing streak", async () => {
    const { own, stored } = await rig("own2");
    const failed = { routeId: "rte_1", routeVersion: 1, eventId: "e", attempts: 1, error: null };
    own.deliveryFailed({ ...failed, id: "dlv_1", eventType: "hookgate.route.disabled" });
    own.deliveryFailed({ ...failed, id: "dlv_2", eventType: "messageNew" });
    const answer = { statusCode: 503, errorCode: null };
    const open = { state: "open" as const, openUntil: 2_000, failingSince: 1_000 };
    own.breakerChanged("http://127.0.0.1:9/x", undefined, open, answer);
    own.breakerChanged("http://127.0.0.1:9/x", open, { ...open, openUntil: 4_000 }, answer);
    own.breakerChanged(
      "http://127.0.0.1:9/x",
      open,
      { state: "closed", openUntil: 0, failingSince: null },
      {
        statusCode: 200,
        errorCode: null,
      },
    );
    await own.close();
    const types = (await stored()).map((e) => [e.type, (e.data as { deliveryId?: string }).deliveryId]);
    assert.deepEqual(types, [
      ["hookgate.delivery.failed", "dlv_2"],
      ["hookgate.target.breaker_opened", undefined],
      ["hookgate.target.breaker_closed", undefined],
    ]);
  });
});
