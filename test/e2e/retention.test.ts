import assert from "node:assert/strict";
import { it } from "node:test";
import { Redis } from "ioredis";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

/* Delivery history is bounded by count as well as by age, so Redis memory stays bounded. */

const fx = useGateway({ HOOKGATE_DELIVERY_RETENTION_COUNT: "100" });

it("keeps at most HOOKGATE_DELIVERY_RETENTION_COUNT finished delivery records", async () => {
  const created = await fx.gw.call("POST", "/v1/routes", { name: "r", target: { url: fx.sink.url() } });
  assert.equal(created.status, 201);
  const events = Array.from({ length: 160 }, (_, i) => ({ id: `ret-${i}`, type: "messageNew", data: { i } }));
  for (const e of events) assert.equal((await fx.gw.call("POST", "/v1/events", e)).status, 202);
  await fx.sink.waitFor(160, 30_000);
  const redis = new Redis(fx.redis.url);
  try {
    const prefix = fx.gw.prefix;
    // The last deliveries' records are written just after their requests arrive.
    const records = await waitUntil(
      async () => {
        const keys = (await redis.keys(`${prefix}:dlv:*`)).filter((k) => !k.endsWith(":attempts"));
        return keys.length <= 100 ? keys : undefined;
      },
      10_000,
      "at most 100 records",
    );
    assert.ok(records.length >= 90, `the newest are kept (${records.length})`);
    assert.ok(
      (await redis.keys(`${prefix}:dlv:*:attempts`)).length <= 100,
      "attempt lists go with their records",
    );
    assert.ok((await redis.zcard(`${prefix}:dlv-index:all`)) <= 100);
    const listed = await fx.gw.call("GET", "/v1/deliveries?limit=500");
    assert.ok(listed.json.deliveries.length <= 100);
    // Walks run concurrently, so the last few may be recorded in any order.
    const newest = await fx.gw.call("GET", "/v1/deliveries?limit=1");
    assert.match(newest.json.deliveries[0].eventId, /^ret-1[45]\d$/);
  } finally {
    redis.disconnect();
  }
});
