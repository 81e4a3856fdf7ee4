import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LaneQueue } from "../../../src/templates/lane-queue.ts";

describe("LaneQueue", () => {
  it("serves lanes in turn, each lane's items in order", () => {
    const q = new LaneQueue<string>(10);
    for (const item of ["a1", "a2", "a3"]) q.push("a", item);
    q.push("b", "b1");
    q.push("c", "c1");
    q.push("b", "b2");
    const taken = [];
    for (let next = q.take(); next; next = q.take()) taken.push(next.item);
    assert.deepEqual(taken, ["a1", "b1", "c1", "a2", "b2", "a3"]);
  });

  it("holds a lane at its cap until one of its items is done, serving the others meanwhile", () => {
    const q = new LaneQueue<string>(1);
    for (const item of ["bad1", "bad2", "bad3"]) q.push("bad", item);
    assert.deepEqual(q.take(), { lane: "bad", item: "bad1" });
    assert.equal(q.take(), undefined, "bad is at its cap and no other lane waits");
    q.push("good", "good1");
    assert.deepEqual(q.take(), { lane: "good", item: "good1" });
    q.done("bad");
    assert.deepEqual(q.take(), { lane: "bad", item: "bad2" });
    q.done("good");
    q.done("bad");
    assert.deepEqual(q.take(), { lane: "bad", item: "bad3" });
    assert.equal(q.take(), undefined);
  });

  it("drains what waits", () => {
    const q = new LaneQueue<number>(1);
    q.push("a", 1);
    q.push("a", 2);
    q.push("b", 3);
    q.take();
    assert.deepEqual(q.drain().sort(), [2, 3]);
    assert.equal(q.take(), undefined);
  });
});
