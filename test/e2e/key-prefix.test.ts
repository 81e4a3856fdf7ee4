import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { Redis } from "ioredis";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

/**
 * With HOOKGATE_KEY_PREFIX in braces every key (Hookgate's and BullMQ's) carries the same hash
 * tag, so Redis Cluster keeps them in one slot, as the README's Redis Cluster section says.
 */

const PREFIX = "{hgc}";
const fx = useGateway({ HOOKGATE_KEY_PREFIX: PREFIX });

describe("HOOKGATE_KEY_PREFIX in braces", () => {
  it("puts every key the gateway and BullMQ write under the one hash tag", async () => {
    fx.sink.respond = () => ({ status: 503 });
    await fx.gw.call("POST", "/v1/routes", {
      name: "retrying",
      map: "export default (e) => e.data",
      retry: { scheduleMs: [600_000] },
      target: { url: fx.sink.url() },
    });
    await fx.gw.call("POST", "/v1/routes", {
      name: "fifo",
      ordering: "fifo",
      target: { url: fx.sink.url("/fifo") },
    });
    const source = await fx.gw.call("POST", "/v1/sources", { name: "ee", kind: "emailengine" });
    const body = await readFile("samples/sources/emailengine/messageNew.json");
    const signature = createHmac("sha256", source.json.secret).update(body).digest("base64url");
    const ingested = await fx.gw.app.inject({
      method: "POST",
      url: `/v1/ingest/${source.json.id}`,
      headers: { "content-type": "application/json", "x-ee-wh-signature": signature },
      payload: body,
    });
    assert.equal(ingested.statusCode, 200);
    await fx.gw.call("POST", "/v1/events", { id: "k-1", type: "messageNew", data: {} });
    await fx.sink.waitFor(2);
    await fx.gw.call("GET", "/metrics");

    const redis = new Redis(fx.redis.url);
    try {
      const keys = await waitUntil(async () => {
        const all = await redis.keys("*");
        return all.some((k) => k.includes(":deliveries:")) && all;
      });
      const outside = keys.filter((k) => !k.startsWith(`${PREFIX}:`));
      assert.deepEqual(outside, [], "every key starts with the prefix, so its hash tag is the prefix's");
      assert.ok(keys.length >= 8, `keys of every kind were written: ${keys.join(" ")}`);
    } finally {
      redis.disconnect();
    }
  });
});
