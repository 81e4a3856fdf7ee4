import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  fieldsOf,
  LATENCY_BOUNDS_MS,
  latencyBucket,
  minutesBetween,
  summarize,
} from "../../../src/stats/stats-buckets.ts";

const T0 = Date.parse("2026-11-23T16:00:00.000Z");
const MIN = 60_000;

/** A minute row in fieldsOf() order: in, delivered, failed, retried, then latency buckets. */
function row(counts: [number, number, number, number], latency: Record<number, number> = {}) {
  const lat = Array.from({ length: LATENCY_BOUNDS_MS.length + 1 }, (_, i) =>
    latency[i] === undefined ? null : String(latency[i]),
  );
  return [...counts.map(String), ...lat];
}

describe("stats buckets", () => {
  it("reads the fields of one route in a fixed order, counters then latency", () => {
    const fields = fieldsOf("rte_1");
    assert.deepEqual(fields.slice(0, 4), ["rte_1|in", "rte_1|delivered", "rte_1|failed", "rte_1|retried"]);
    assert.equal(fields.length, 4 + LATENCY_BOUNDS_MS.length + 1);
  });

  it("puts an attempt in the first bucket whose bound holds it, the slowest past the last", () => {
    assert.equal(latencyBucket(0), 0);
    assert.equal(latencyBucket(25), 0);
    assert.equal(latencyBucket(26), 1);
    assert.equal(latencyBucket(999_999), LATENCY_BOUNDS_MS.length);
  });

  it("lists the minutes of a range, the first rounded down", () => {
    assert.deepEqual(minutesBetween(T0 + 30_000, T0 + 2 * MIN), [T0, T0 + MIN, T0 + 2 * MIN]);
  });

  it("sums minutes into steps and totals, zeros included, and finds the percentiles' buckets", () => {
    const minutes = minutesBetween(T0, T0 + 4 * MIN);
    const rows = [
      row([2, 1, 0, 1], { 0: 1, 3: 1 }),
      [null, null, null, null],
      row([3, 2, 1, 0], { 0: 2, 9: 1 }),
      row([0, 0, 0, 0]),
      row([1, 1, 0, 0], { 2: 1 }),
    ];
    const answer = summarize(minutes, rows, T0, T0 + 4 * MIN, 2 * MIN);
    assert.deepEqual(answer.series, [
      { at: "2026-11-23T16:00:00.000Z", in: 2, delivered: 1, failed: 0, retried: 1 },
      { at: "2026-11-23T16:02:00.000Z", in: 3, delivered: 2, failed: 1, retried: 0 },
      { at: "2026-11-23T16:04:00.000Z", in: 1, delivered: 1, failed: 0, retried: 0 },
    ]);
    // 6 attempts: buckets 0,0,0,2,3,9 → the 3rd is in bucket 0, the 6th in bucket 9.
    assert.deepEqual(answer.totals, {
      in: 6,
      delivered: 4,
      failed: 1,
      retrying: 1,
      latencyMs: { p50: LATENCY_BOUNDS_MS[0], p99: LATENCY_BOUNDS_MS[9] },
    });
  });

  it("has no percentiles without attempts, and none past the last bound", () => {
    const none = summarize([T0], [row([1, 0, 0, 0])], T0, T0, MIN);
    assert.deepEqual(none.totals.latencyMs, { p50: null, p99: null });
    const slow = summarize([T0], [row([1, 1, 0, 0], { [LATENCY_BOUNDS_MS.length]: 1 })], T0, T0, MIN);
    assert.deepEqual(slow.totals.latencyMs, { p50: null, p99: null });
  });
});
