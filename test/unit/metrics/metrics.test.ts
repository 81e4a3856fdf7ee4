import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metrics } from "../../../src/metrics/index.ts";
import { LabelLimit, OTHER_LABEL } from "../../../src/metrics/label-limit.ts";
import { observeWalk } from "../../../src/metrics/walk-outcomes.ts";
import { buildRoute, compileRoute, RouteInSchema } from "../../../src/routing/index.ts";
import type { RouteWalk } from "../../../src/walk/index.ts";
import { parseProm, promValue } from "../../helpers/prometheus.ts";

const scrape = async (m: Metrics) => parseProm(await m.scrape());

function walkOf(id: string, over: Partial<RouteWalk>): RouteWalk {
  const route = {
    ...buildRoute(RouteInSchema.parse({ name: id, target: { url: "https://x.example/" } })),
    id,
  };
  return {
    route: compileRoute(route),
    fired: false,
    skipped: null,
    filter: null,
    map: null,
    rendered: null,
    error: null,
    ...over,
  };
}

describe("LabelLimit", () => {
  it("keeps the first values and reports the rest as other", () => {
    const limit = new LabelLimit(2);
    assert.deepEqual(
      ["a", "b", "c", "a", "d", "b"].map((v) => limit.value(v)),
      ["a", "b", OTHER_LABEL, "a", OTHER_LABEL, "b"],
    );
  });

  it("shows control and bidirectional characters as escapes", () => {
    const limit = new LabelLimit(10);
    assert.equal(limit.value("message\u0000New"), "message\\u0000New");
    assert.equal(limit.value("bounce\u202Egpj.exe"), "bounce\\u202egpj.exe");
    assert.equal(limit.value("a\u2066b\u0085c\u007f"), "a\\u2066b\\u0085c\\u007f");
    assert.equal(limit.value("messageNew é 😀"), "messageNew é 😀");
  });
});

describe("observeWalk", () => {
  it("names each route's outcome and each step's", () => {
    const step = (ok: boolean, value: unknown, code?: string) => ({
      ok,
      value,
      logs: [],
      durationMs: 2,
      ...(code ? { error: { code: code as "HG_ERR_SANDBOX_TIMEOUT", message: "x" } } : {}),
    });
    const observed = observeWalk([
      walkOf("rte_a", { fired: true, filter: step(true, true), map: step(true, { a: 1 }) }),
      walkOf("rte_b", { filter: step(true, false) }),
      walkOf("rte_c", {
        filter: step(false, undefined, "HG_ERR_SANDBOX_TIMEOUT"),
        error: { code: "HG_ERR_SANDBOX_TIMEOUT", message: "x" },
      }),
      walkOf("rte_d", { skipped: "disabled" }),
      walkOf("rte_e", {
        map: step(false, undefined, "HG_ERR_SANDBOX_SOMETHING_NEW"),
        error: { code: "x", message: "x" },
      }),
    ]);
    assert.deepEqual(
      observed.map((o) => [o.routeId, o.outcome, o.steps.map((s) => `${s.step}:${s.outcome}`).join(" ")]),
      [
        ["rte_a", "fired", "filter:passed map:ok"],
        ["rte_b", "filtered_out", "filter:rejected"],
        ["rte_c", "error", "filter:timeout"],
        ["rte_d", "skipped", ""],
        ["rte_e", "error", "map:error"],
      ],
    );
  });
});

describe("Metrics", () => {
  it("counts attempts by route and outcome, finished deliveries, answers and latency", async () => {
    const m = new Metrics({ processMetrics: false });
    m.attempt({ routeId: "rte_a", outcome: "retry", statusCode: 503, errorCode: null, durationMs: 40 });
    m.attempt({ routeId: "rte_a", outcome: "delivered", statusCode: 200, errorCode: null, durationMs: 20 });
    m.attempt({
      routeId: "rte_b",
      outcome: "failed",
      statusCode: null,
      errorCode: "E_TIMEOUT",
      durationMs: 10_000,
    });
    const s = await scrape(m);
    assert.equal(
      promValue(s, "hookgate_delivery_attempts_total", { route_id: "rte_a", outcome: "retry" }),
      1,
    );
    assert.equal(
      promValue(s, "hookgate_delivery_attempts_total", { route_id: "rte_a", outcome: "delivered" }),
      1,
    );
    assert.equal(
      promValue(s, "hookgate_deliveries_finished_total", { route_id: "rte_a", status: "succeeded" }),
      1,
    );
    assert.equal(
      promValue(s, "hookgate_deliveries_finished_total", { route_id: "rte_b", status: "failed" }),
      1,
    );
    assert.equal(
      promValue(s, "hookgate_deliveries_finished_total", { route_id: "rte_a", status: "failed" }),
      undefined,
    );
    assert.equal(promValue(s, "hookgate_delivery_attempt_results_total", { result: "5xx" }), 1);
    assert.equal(promValue(s, "hookgate_delivery_attempt_results_total", { result: "E_TIMEOUT" }), 1);
    assert.equal(promValue(s, "hookgate_delivery_attempt_duration_seconds_count", { outcome: "failed" }), 1);
    assert.equal(promValue(s, "hookgate_delivery_attempt_duration_seconds_sum", { outcome: "failed" }), 10);
    assert.equal(
      promValue(s, "hookgate_delivery_attempt_duration_seconds_bucket", { outcome: "failed", le: "5" }),
      0,
    );
  });

  it("reports breaker states as 0, 1, 2 and deferrals by reason", async () => {
    const m = new Metrics({ processMetrics: false });
    m.setBreakerState("t1", "open");
    m.setBreakerState("t2", "half-open");
    m.setBreakerState("t1", "closed");
    m.deferred("breaker_open");
    m.deferred("breaker_probing");
    const s = await scrape(m);
    assert.equal(promValue(s, "hookgate_circuit_breaker_state", { target: "t1" }), 0);
    assert.equal(promValue(s, "hookgate_circuit_breaker_state", { target: "t2" }), 1);
    assert.equal(promValue(s, "hookgate_delivery_deferrals_total", { reason: "breaker" }), 2);
  });

  it("labels each typed defer reason with one of a few values", async () => {
    const m = new Metrics({ processMetrics: false });
    const reasons = [
      "in_flight",
      "breaker_open",
      "breaker_probing",
      "rate_limited",
      "fifo_turn",
      "storage_full",
      "route_turned_on",
    ] as const;
    for (const reason of reasons) m.deferred(reason);
    const s = await scrape(m);
    const counted = ["concurrency", "breaker", "rate_limit", "fifo", "other"].map((reason) =>
      promValue(s, "hookgate_delivery_deferrals_total", { reason }),
    );
    assert.deepEqual(counted, [1, 2, 1, 1, 2]);
  });

  it("keeps each instance's values apart and caps user-fed labels", async () => {
    const a = new Metrics({ processMetrics: false, maxLabelValues: 2 });
    const b = new Metrics({ processMetrics: false });
    a.eventsAccepted(
      "api",
      [{ type: "t1" }, { type: "t2" }, { type: "t3" }, { type: "t1" }],
      [{ duplicate: false }, { duplicate: false }, { duplicate: false }, { duplicate: true }],
    );
    const sa = await scrape(a);
    assert.equal(promValue(sa, "hookgate_events_received_total", { type: "t1" }), 1);
    assert.equal(promValue(sa, "hookgate_events_received_total", { type: OTHER_LABEL }), 1);
    assert.equal(promValue(sa, "hookgate_events_duplicate_total", { source: "api" }), 1);
    assert.equal(promValue(await scrape(b), "hookgate_events_received_total", { type: "t1" }), undefined);
  });

  it("reads gauges from their sources at scrape time, and does not wait for one that hangs", async () => {
    const m = new Metrics({ processMetrics: false, collectTimeoutMs: 50 });
    let length = 3;
    m.watchEventStream({ length: async () => length, pending: () => new Promise(() => {}) });
    m.watchQueue({ getJobCounts: async () => ({ waiting: 4, delayed: 1 }) });
    m.watchSandbox({
      stats: () => ({ isolates: 2 }),
      heapStatistics: () => ({
        isolates: 2,
        usedHeapBytes: 10,
        totalHeapBytes: 20,
        externalBytes: 1,
        heapLimitBytes: 64,
      }),
    });
    let s = await scrape(m);
    assert.equal(promValue(s, "hookgate_events_stream_length"), 3);
    assert.ok(
      Number.isNaN(promValue(s, "hookgate_events_pending")),
      "a source that hangs is reported unknown (NaN), not waited for",
    );
    assert.equal(promValue(s, "hookgate_queue_jobs", { state: "waiting" }), 4);
    assert.equal(promValue(s, "hookgate_queue_jobs", { state: "active" }), 0);
    assert.equal(promValue(s, "hookgate_sandbox_isolates"), 2);
    assert.equal(promValue(s, "hookgate_sandbox_heap_used_bytes"), 10);
    length = 7;
    s = await scrape(m);
    assert.equal(promValue(s, "hookgate_events_stream_length"), 7);
  });
});
