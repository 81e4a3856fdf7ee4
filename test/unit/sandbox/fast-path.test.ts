import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BackoffStore, FastPath, MAX_BACKOFFS, SYNC_BUDGET_MS } from "../../../src/sandbox/fast-path.ts";

function store(): BackoffStore & { map: Map<string, number> } {
  const map = new Map<string, number>();
  return {
    map,
    backoffs: (key) => map.get(key) ?? 0,
    setBackoffs: (key, n) => {
      map.set(key, n);
    },
  };
}

/** Off-thread runs of 0 ms until the fast path is on; how many it took. */
function earn(fast: FastPath, limit = 100_000): number {
  let n = 0;
  while (!fast.on && n < limit) {
    fast.ran(0, false);
    n++;
  }
  return n;
}

describe("fast path decisions", () => {
  it("is earned by 20 fast runs in a row off-thread; a slow one restarts the count", () => {
    const fast = new FastPath("k", store());
    for (let i = 0; i < 19; i++) fast.ran(0, false);
    fast.ran(3, false);
    assert.equal(fast.on, false);
    assert.equal(earn(fast), 20);
  });

  it("a slow run on the fast path ends it, and the next streak must be twice as long", () => {
    const s = store();
    const fast = new FastPath("k", s);
    earn(fast);
    fast.ran(2, true, 2);
    assert.equal(fast.on, false);
    assert.equal(s.map.get("k"), 1);
    assert.equal(earn(fast), 40);
  });

  it("a run slow by the clock but not by CPU time (a busy machine, a shared GC) stays fast", () => {
    const fast = new FastPath("k", store());
    earn(fast);
    fast.ran(7, true, 0.05);
    assert.equal(fast.on, true);
  });

  it("an overrun with the CPU time to show for it costs the most backoffs; a descheduled one, one", () => {
    const s = store();
    const slow = new FastPath("slow", s);
    earn(slow);
    slow.overran(SYNC_BUDGET_MS);
    assert.equal(slow.on, false);
    assert.equal(s.map.get("slow"), MAX_BACKOFFS);
    const held = new FastPath("held", s);
    earn(held);
    held.overran(0.2);
    assert.equal(s.map.get("held"), 1);
  });

  it("backoffs outlive the isolate: a rebuilt one needs the same streak", () => {
    const s = store();
    const first = new FastPath("k", s);
    earn(first);
    first.overran(0.1);
    first.overran(0.1);
    assert.equal(earn(new FastPath("k", s)), 20 * 2 ** 2);
  });

  it("long good behaviour on the fast path takes backoffs away, one per 10,000 fast runs", () => {
    const s = store();
    s.setBackoffs("k", 2);
    const fast = new FastPath("k", s);
    earn(fast);
    for (let i = 0; i < 10_000; i++) fast.ran(0, true, 0.01);
    assert.equal(s.map.get("k"), 1);
    assert.equal(fast.on, true);
  });
});
