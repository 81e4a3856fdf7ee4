import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../../src/config/index.ts";
import { hashTagOf } from "../../../src/config/schema.ts";
import { keySlot, redisEndpointOf } from "../../../src/shared/redis.ts";

describe("Redis endpoint settings", () => {
  it("reads a Cluster's seed nodes, refusing a key prefix without a hash tag", () => {
    const c = loadConfig({
      HOOKGATE_REDIS_CLUSTER_NODES: "10.0.0.1:7000, [::1]:7001",
      HOOKGATE_KEY_PREFIX: "{hg}",
    });
    assert.deepEqual(redisEndpointOf(c), {
      kind: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "::1", port: 7001 },
      ],
      auth: { tls: false },
    });
    for (const prefix of ["hg", "hg{}", "{}hg", "hg{x"])
      assert.throws(
        () => loadConfig({ HOOKGATE_REDIS_CLUSTER_NODES: "h:1", HOOKGATE_KEY_PREFIX: prefix }),
        /HOOKGATE_KEY_PREFIX: needs a hash tag/,
        prefix,
      );
    assert.throws(() => loadConfig({ HOOKGATE_REDIS_CLUSTER_NODES: "h:1" }), /such as \{hg\}/);
  });

  it("reads Sentinels with the primary's name, credentials and TLS", () => {
    const c = loadConfig({
      HOOKGATE_REDIS_SENTINELS: "s1:26379,s2:26379",
      HOOKGATE_REDIS_SENTINEL_NAME: "hookgate",
      HOOKGATE_REDIS_PASSWORD: "pw",
      HOOKGATE_REDIS_TLS: "on",
    });
    assert.deepEqual(redisEndpointOf(c), {
      kind: "sentinel",
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26379 },
      ],
      name: "hookgate",
      auth: { password: "pw", tls: true },
    });
    assert.throws(() => loadConfig({ HOOKGATE_REDIS_SENTINELS: "s1:26379" }), /HOOKGATE_REDIS_SENTINEL_NAME/);
  });

  it("takes one way to reach Redis, and names the ones given together", () => {
    assert.deepEqual(redisEndpointOf(loadConfig({ REDIS_URL: "redis://r:6379" })), {
      kind: "node",
      url: "redis://r:6379",
    });
    assert.equal(redisEndpointOf(loadConfig({})), null);
    assert.throws(
      () =>
        loadConfig({
          REDIS_URL: "redis://r",
          HOOKGATE_REDIS_CLUSTER_NODES: "h:1",
          HOOKGATE_KEY_PREFIX: "{a}",
        }),
      /set only one of REDIS_URL, HOOKGATE_REDIS_CLUSTER_NODES/,
    );
    for (const bad of ["h", "h:", ":1", "h:0", "h:70000", "h:1,,x"])
      assert.throws(
        () => loadConfig({ HOOKGATE_REDIS_SENTINELS: bad, HOOKGATE_REDIS_SENTINEL_NAME: "m" }),
        bad,
      );
  });
});

describe("keySlot", () => {
  it("answers what CLUSTER KEYSLOT answers (values from Redis's documentation)", () => {
    assert.equal(keySlot("somekey"), 11058);
    assert.equal(keySlot("foo{hash_tag}"), 2515);
    assert.equal(keySlot("bar{hash_tag}"), 2515);
  });

  it("hashes only the first hash tag, as hashTagOf reads it", () => {
    assert.equal(keySlot("{hg}:routes"), keySlot("{hg}:dlv:dlv_1:attempts"));
    assert.equal(keySlot("{hg}:x"), keySlot("hg"));
    assert.equal(hashTagOf("{hg}:a{b}"), "hg");
    // An empty tag does not count: the whole key is hashed.
    assert.notEqual(keySlot("{}a"), keySlot("a"));
    assert.equal(hashTagOf("{}{hg}"), null);
  });
});
