import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Redis } from "ioredis";
import { STATS_RETENTION_MS, statsMinuteKey } from "../../src/stats/index.ts";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * GET /v1/stats against the real gateway, Redis and a loopback sink: events to a route whose
 * receiver answers 200 and to one whose receiver answers 500 (one retry, then failed) are
 * counted per route and minute in Redis, summed for all routes, and expire with the retention.
 */

describe("stats", () => {
  // Failures must not open the breaker here: every attempt is made on the schedule.
  const fx = useGateway({ HOOKGATE_BREAKER_FAILURES: "1000" });

  async function route(name: string, path: string): Promise<string> {
    const res = await fx.gw.call("POST", "/v1/routes", {
      name,
      events: ["messageNew"],
      target: { url: fx.sink.url(path) },
      retry: { scheduleMs: [50] },
    });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    return res.json.id;
  }

  it("counts events in and attempt outcomes per route, and for all routes", async () => {
    fx.sink.respond = (req) =>
      req.url.startsWith("/bad") ? { status: 500, body: "down" } : { status: 200, body: "ok" };
    const good = await route("good", "/good");
    const bad = await route("bad", "/bad");
    const since = new Date(Date.now() - 60_000).toISOString();
    for (let i = 0; i < 3; i++) {
      const res = await fx.gw.call("POST", "/v1/events", {
        id: `evt_stats_${i}`,
        type: "messageNew",
        data: { i },
      });
      assert.equal(res.status, 202);
    }
    // The deliveries are final: 3 delivered, 3 failed after one retry each.
    await waitUntil(async () => {
      const { json } = await fx.gw.call("GET", `/v1/deliveries?limit=500`);
      const done = json.deliveries.filter(
        (d: { status: string }) => d.status === "succeeded" || d.status === "failed",
      );
      return done.length === 6;
    });

    const stats = (q: string) => fx.gw.call("GET", `/v1/stats?since=${encodeURIComponent(since)}${q}`);
    // The recorder adds its counts to Redis once a second: waited for, then compared exactly.
    const totalsOf = async (q: string, want: object) =>
      waitUntil(
        async () => {
          const { json } = await stats(q);
          const { latencyMs: _l, ...counts } = json.totals;
          return JSON.stringify(counts) === JSON.stringify(want) ? json : false;
        },
        15_000,
        `totals ${JSON.stringify(want)} for ${q || "all routes"}`,
      );
    const goodStats = await totalsOf(`&routeId=${good}`, { in: 3, delivered: 3, failed: 0, retrying: 0 });
    const badStats = await totalsOf(`&routeId=${bad}`, { in: 3, delivered: 0, failed: 3, retrying: 3 });
    const all = await totalsOf("", { in: 6, delivered: 3, failed: 3, retrying: 3 });

    // The series sums to the totals, a point per minute from since (rounded down) to now.
    for (const s of [goodStats, badStats, all]) {
      const sum = (k: string) =>
        s.series.reduce((a: number, p: Record<string, number>) => a + (p[k] ?? 0), 0);
      assert.deepEqual(
        { in: sum("in"), delivered: sum("delivered"), failed: sum("failed"), retrying: sum("retried") },
        {
          in: s.totals.in,
          delivered: s.totals.delivered,
          failed: s.totals.failed,
          retrying: s.totals.retrying,
        },
      );
      assert.equal(s.series[0].at, new Date(Math.floor(Date.parse(since) / 60_000) * 60_000).toISOString());
      assert.ok(s.series.length === 2 || s.series.length === 3, `${s.series.length} points`);
    }
    // Loopback answers are fast: the median attempt is in a bucket of at most a second.
    assert.ok(goodStats.totals.latencyMs.p50 !== null && goodStats.totals.latencyMs.p50 <= 1000);
    assert.equal((await stats(`&routeId=rte_nothing`)).json.totals.in, 0);

    // One point for the whole hour when the step is an hour.
    const hourly = await stats("&step=3600");
    assert.equal(
      hourly.json.series.reduce((a: number, p: { in: number }) => a + p.in, 0),
      6,
    );

    // Counted in minute hashes under the gateway's prefix that expire after the retention.
    const redis = new Redis(fx.redis.url);
    after(() => redis.disconnect());
    const keys = await redis.keys(`${fx.gw.prefix}:stats:m:*`);
    assert.ok(keys.length >= 1 && keys.length <= 3, keys.join());
    for (const key of keys) {
      const minute = Number(key.split(":").at(-1)) * 60_000;
      assert.equal(key, statsMinuteKey(fx.gw.prefix, minute));
      assert.equal(await redis.pexpiretime(key), minute + 60_000 + STATS_RETENTION_MS);
    }
  });

  it("refuses a step that is not whole minutes, a range past the retention, and an empty range", async () => {
    const bad = async (q: string, field: RegExp) => {
      const res = await fx.gw.call("GET", `/v1/stats?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.json.error.code, "HG_ERR_VALIDATION");
      assert.match(JSON.stringify(res.json.error), field);
    };
    await bad("step=90", /step|minutes/);
    await bad(`since=${new Date(Date.now() - STATS_RETENTION_MS - 3_600_000).toISOString()}`, /since/);
    await bad(
      `since=${new Date().toISOString()}&until=${new Date(Date.now() - 3_600_000).toISOString()}`,
      /until/,
    );
    const anonymous = await fx.gw.app.inject({ url: "/v1/stats" });
    assert.equal(anonymous.statusCode, 401);
  });
});
