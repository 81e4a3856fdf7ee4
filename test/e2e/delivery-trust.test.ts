import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { Redis } from "ioredis";
import { Webhook } from "standardwebhooks";
import { targetKeyOf } from "../../src/delivery/index.ts";
import { useGateway } from "../helpers/fixture.ts";
import { parseProm, promValue } from "../helpers/prometheus.ts";
import { Sink } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * Delivery users can trust: a sick target does not hold up the others, a failing one is left
 * alone by its circuit breaker and probed later, rate limits and pauses are kept, FIFO routes
 * deliver in ingest order through retries, batching routes send {"events": [...]}, failed
 * deliveries are redriven. A real gateway, real Redis, real sinks on loopback.
 */

const fx = useGateway({
  // Few shared lanes, so a target that held them would visibly stop the others.
  HOOKGATE_DELIVERY_CONCURRENCY: "6",
  HOOKGATE_BREAKER_FAILURES: "3",
  HOOKGATE_BREAKER_COOLDOWN_MS: "1500",
});
let other: Sink;
let redis: Redis;

before(async () => {
  other = await new Sink().listen();
});
after(async () => {
  await other?.close();
  redis?.disconnect();
});
beforeEach(async () => {
  redis ??= new Redis(fx.redis.url);
  await fx.reset();
  other.requests.length = 0;
  other.respond = () => ({ status: 200, body: "ok" });
});

async function createRoute(fields: Record<string, unknown>) {
  const res = await fx.gw.call("POST", "/v1/routes", {
    name: "r",
    retry: { scheduleMs: [50, 50, 50] },
    ...fields,
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;
}

async function send(n: number, prefix: string, type = "messageNew") {
  for (let i = 0; i < n; i++) {
    const res = await fx.gw.call("POST", "/v1/events", { id: `${prefix}-${i}`, type, data: { n: i } });
    assert.equal(res.status, 202);
  }
}

/** Attempts put off because a target's breaker was open or probing, so far (GET /metrics). */
async function breakerDeferrals(): Promise<number> {
  const res = await fx.gw.app.inject({
    url: "/metrics",
    headers: { authorization: `Bearer ${fx.gw.token}` },
  });
  assert.equal(res.statusCode, 200, res.body);
  return promValue(parseProm(res.body), "hookgate_delivery_deferrals_total", { reason: "breaker" }) ?? 0;
}

async function deliveriesOf(routeId: string) {
  const res = await fx.gw.call("GET", `/v1/deliveries?routeId=${routeId}&limit=500`);
  assert.equal(res.status, 200);
  return res.json.deliveries as { id: string; status: string; attemptCount: number; eventIds?: string[] }[];
}

/** Requests that reached one path of the fixture's sink (earlier tests' retries may still arrive). */
async function arrivals(path: string, count: number) {
  return waitUntil(
    () => {
      const got = fx.sink.requests.filter((r) => r.url === path);
      return got.length >= count ? got : undefined;
    },
    20_000,
    `${count} requests to ${path}`,
  );
}

const idOf = (body: string) => (JSON.parse(body) as { id: string }).id;

describe("one target never holds up the others", () => {
  it("keeps delivering to a healthy target while another hangs", async () => {
    fx.sink.respond = () => ({ hang: true });
    const sick = await createRoute({
      name: "sick",
      target: { url: fx.sink.url("/hang"), timeoutMs: 8000, maxConcurrency: 2 },
    });
    await createRoute({ name: "healthy", target: { url: other.url("/ok") } });
    await send(30, "iso");
    // Every healthy delivery arrives while the hanging target still holds its first requests.
    const healthy = await other.waitFor(30, 20_000);
    assert.deepEqual(new Set(healthy.map((r) => idOf(r.body))).size, 30);
    assert.ok(
      fx.sink.requests.length <= 2,
      `the hanging target got ${fx.sink.requests.length} requests, cap 2`,
    );
    // Deliveries whose first attempt is underway or waiting for a lane are recorded within 250 ms.
    const sickDeliveries = await waitUntil(async () => {
      const list = await deliveriesOf(sick.id);
      return list.length === 30 ? list : undefined;
    }, 5_000);
    assert.equal(sickDeliveries.length, 30);
    assert.ok(
      sickDeliveries.every((d) => d.attemptCount === 0),
      "no attempt to the hanging target has even timed out yet",
    );
    await fx.gw.call("DELETE", `/v1/routes/${sick.id}`);
  });
});

describe("circuit breaker", () => {
  it("stops calling a failing target after 3 failures, probes it after the cooldown, then resumes", async () => {
    let healthy = false;
    fx.sink.respond = () => (healthy ? { status: 200 } : { status: 500, body: "down" });
    const route = await createRoute({
      name: "breaker",
      target: { url: fx.sink.url("/breaker"), maxConcurrency: 1 },
      retry: { scheduleMs: Array(10).fill(50) },
    });
    const deferredBefore = await breakerDeferrals();
    await send(8, "brk");
    await arrivals("/breaker", 3);
    const sent = () => fx.sink.requests.filter((r) => r.url === "/breaker");
    // The sentinel: at most 3 of the 8 deliveries were tried, so at least 5 came due while the
    // breaker was open (long before its cooldown ends) and were held back by it. Once they were,
    // nothing of theirs went out in the meantime.
    await waitUntil(
      async () => (await breakerDeferrals()) - deferredBefore >= 5,
      15_000,
      "5 deliveries held back by the open breaker",
    );
    assert.equal(sent().length, 3, "the open breaker lets nothing through");
    const breaker = `${fx.gw.prefix}:tgt:${targetKeyOf(fx.sink.url("/breaker"))}`;
    assert.equal(await redis.hget(breaker, "state"), "open");
    healthy = true;
    await waitUntil(
      async () => (await deliveriesOf(route.id)).filter((d) => d.status === "succeeded").length === 8,
      20_000,
      "every delivery to succeed after the probe",
    );
    // 3 failures, then one probe, then the rest: 8 successes in all.
    assert.equal(sent().length, 11);
    const firstAfterOpen = sent()[3];
    const lastFailure = sent()[2];
    assert.ok(firstAfterOpen && lastFailure);
    assert.ok(firstAfterOpen.at - lastFailure.at >= 1400, "the probe waited for the cooldown");
    assert.equal(await redis.exists(breaker), 0, "a success closes the breaker");
  });

  it("disables a route whose target fails for longer than HOOKGATE_DISABLE_AFTER_S", async () => {
    // The worker's clock is the real one here; the breaker remembers failingSince from the first
    // failure, so pre-date it to stand for days of failures.
    fx.sink.respond = () => ({ status: 503 });
    const route = await createRoute({ name: "days", target: { url: fx.sink.url("/days") } });
    await send(1, "days-a");
    const key = `${fx.gw.prefix}:tgt:${targetKeyOf(fx.sink.url("/days"))}`;
    await waitUntil(async () => (await redis.hget(key, "failingSince")) !== null, 10_000, "failingSince");
    await redis.hset(key, "failingSince", String(Date.now() - 6 * 24 * 3600 * 1000));
    await send(1, "days-b");
    await waitUntil(
      async () => (await fx.gw.call("GET", `/v1/routes/${route.id}`)).json.enabled === false,
      20_000,
      "the route to be disabled",
    );
    const got = await fx.gw.call("GET", `/v1/routes/${route.id}`);
    assert.match(got.json.disabledReason, /failed every attempt since/);
  });
});

describe("rate limits and pauses", () => {
  it("keeps target.rateLimit per second", async () => {
    await createRoute({ name: "rate", target: { url: fx.sink.url("/rate"), rateLimit: 5 } });
    await send(15, "rate");
    const got = await arrivals("/rate", 15);
    const times = got.map((r) => r.at).sort((a, b) => a - b);
    // Evenly spaced, one per 200 ms, so no second ever holds more than 5.
    for (let i = 5; i < times.length; i++) {
      const t = times[i] as number;
      const before = times[i - 5] as number;
      assert.ok(t - before >= 900, `request ${i} came ${t - before} ms after request ${i - 5}`);
    }
  });

  it("pauses every delivery to a target that answered 429 with Retry-After", async () => {
    let first = true;
    fx.sink.respond = (req) => {
      if (req.url !== "/429") return { status: 200 };
      if (first) {
        first = false;
        return { status: 429, headers: { "retry-after": "2" } };
      }
      return { status: 200 };
    };
    await createRoute({ name: "429", target: { url: fx.sink.url("/429"), maxConcurrency: 1 } });
    await send(3, "pause");
    const [a, b] = await arrivals("/429", 4);
    assert.ok(a && b);
    assert.ok(b.at - a.at >= 1900, `the next request waited ${b.at - a.at} ms, asked 2 s`);
  });

  it("follows Discord's bucket headers for the whole target", async () => {
    let n = 0;
    fx.sink.respond = (req) => {
      if (req.url !== "/bucket") return { status: 200 };
      n++;
      return n === 1
        ? { status: 204, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset-after": "1.5" } }
        : { status: 204 };
    };
    await createRoute({ name: "bucket", target: { url: fx.sink.url("/bucket"), maxConcurrency: 1 } });
    await send(2, "bucket");
    const [a, b] = await arrivals("/bucket", 2);
    assert.ok(a && b);
    assert.ok(b.at - a.at >= 1400, `the second request waited ${b.at - a.at} ms for the bucket to reset`);
  });
});

describe("FIFO routes", () => {
  it("delivers in ingest order, the next waiting for the previous one's retries", async () => {
    let failures = 0;
    fx.sink.respond = (req) => {
      if (idOf(req.body) === "fifo-0" && failures < 2) {
        failures++;
        return { status: 500 };
      }
      return { status: 200 };
    };
    await createRoute({
      name: "fifo",
      ordering: "fifo",
      target: { url: fx.sink.url("/fifo") },
      retry: { scheduleMs: [100, 100, 100] },
    });
    await send(20, "fifo");
    const got = await arrivals("/fifo", 22);
    assert.deepEqual(
      got.map((r) => idOf(r.body)),
      ["fifo-0", "fifo-0", "fifo-0", ...Array.from({ length: 19 }, (_, i) => `fifo-${i + 1}`)],
    );
  });

  it("moves on past a delivery that failed for good, in order", async () => {
    fx.sink.respond = (req) => (idOf(req.body) === "gone-1" ? { status: 400 } : { status: 200 });
    await createRoute({ name: "fifo-fail", ordering: "fifo", target: { url: fx.sink.url("/fifo2") } });
    await send(5, "gone");
    const got = await arrivals("/fifo2", 5);
    assert.deepEqual(
      got.map((r) => idOf(r.body)),
      ["gone-0", "gone-1", "gone-2", "gone-3", "gone-4"],
    );
  });
});

describe("batching", () => {
  it('sends {"events": [...]} of at most maxEvents, each event once, signed', async () => {
    const route = await createRoute({
      name: "batch",
      batch: { maxEvents: 5, maxWaitMs: 300 },
      target: { url: fx.sink.url("/batch") },
    });
    const sent = () => fx.sink.requests.filter((r) => r.url === "/batch");
    await send(12, "bt");
    await waitUntil(
      () => sent().reduce((n, r) => n + (JSON.parse(r.body) as { events: unknown[] }).events.length, 0) >= 12,
      20_000,
      "12 events in batches",
    );
    const batches = sent().map((r) => JSON.parse(r.body) as { events: { id: string }[] });
    assert.ok(batches.every((b) => b.events.length >= 1 && b.events.length <= 5));
    const ids = batches.flatMap((b) => b.events.map((e) => e.id));
    assert.deepEqual([...ids].sort(), Array.from({ length: 12 }, (_, i) => `bt-${i}`).sort());
    const wh = new Webhook(route.target.signing.secret);
    for (const r of sent()) {
      assert.doesNotThrow(() => wh.verify(r.body, r.headers as Record<string, string>));
    }
    const records = await deliveriesOf(route.id);
    assert.equal(records.length, batches.length);
    assert.equal(records.flatMap((d) => d.eventIds ?? []).length, 12);
  });

  it("refuses to batch a Slack message", async () => {
    const res = await fx.gw.call("POST", "/v1/routes", {
      name: "no",
      batch: { maxEvents: 5 },
      template: { kind: "slack" },
      target: { url: fx.sink.url() },
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, "HG_ERR_VALIDATION");
    assert.match(res.json.error.message, /batch/);
  });
});

describe("redrive", () => {
  it("sends again every failed delivery of a route since a time", async () => {
    let up = false;
    fx.sink.respond = () => (up ? { status: 200 } : { status: 400 });
    const since = new Date(Date.now() - 1000).toISOString();
    const route = await createRoute({ name: "redrive", target: { url: fx.sink.url("/redrive") } });
    await send(6, "rd");
    await waitUntil(
      async () => (await deliveriesOf(route.id)).filter((d) => d.status === "failed").length === 6,
      20_000,
      "6 failures",
    );
    up = true;
    const res = await fx.gw.call("POST", `/v1/routes/${route.id}/redrive`, { since });
    assert.equal(res.status, 202, JSON.stringify(res.json));
    assert.deepEqual(res.json, { redriven: 6, scanned: 6, notSent: [] });
    await waitUntil(
      async () => (await deliveriesOf(route.id)).filter((d) => d.status === "succeeded").length === 6,
      20_000,
      "6 successes",
    );
    const again = await fx.gw.call("POST", `/v1/routes/${route.id}/redrive`, { since });
    assert.deepEqual(
      again.json,
      { redriven: 0, scanned: 6, notSent: [] },
      "succeeded ones are not sent again",
    );
    const missing = await fx.gw.call("POST", "/v1/routes/rte_nope/redrive", { since });
    assert.equal(missing.status, 404);
    const bad = await fx.gw.call("POST", `/v1/routes/${route.id}/redrive`, { since: "yesterday" });
    assert.equal(bad.status, 400);
  });
});
