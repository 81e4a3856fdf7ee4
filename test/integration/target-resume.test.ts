import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { TargetState } from "../../src/delivery/index.ts";
import { TargetGate } from "../../src/delivery/target-gate.ts";
import { ANSWERS_KEPT, SUCCESS_NOTE_MS } from "../../src/delivery/target-state.ts";
import { redisKeys } from "../../src/shared/redis-keys.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

/*
 * What operators see of a target and their resume, on the Lua side against a real Redis with
 * explicit clocks; and two gates on one Redis standing for two worker processes, one of which
 * learned of an outage that an operator then cleared.
 */

let server: RedisServer;
let redis: Redis;
let n = 0;

before(async () => {
  server = await startRedisServer({ appendonly: false });
  redis = new Redis(server.url);
});
after(async () => {
  redis?.disconnect();
  await server?.stop();
});

function fresh(threshold = 2, prefix = `tr${n++}`) {
  return new TargetState(redis, redisKeys(prefix), {
    failureThreshold: threshold,
    cooldownMs: 60_000,
    maxCooldownMs: 600_000,
  });
}

const FAIL = { success: false, breakerFailure: true };
const OK = { success: true, breakerFailure: false };
const answer = (at: number, statusCode: number | null, errorCode: string | null = null) => ({
  at,
  statusCode,
  errorCode,
  durationMs: 12,
});

describe("target snapshots and resume", () => {
  it("keeps the last answers with the breaker's update, newest first and capped", async () => {
    const s = fresh(100);
    for (let i = 0; i < ANSWERS_KEPT + 5; i++) await s.record("t", FAIL, 1000 + i, answer(1000 + i, 500));
    const [snap] = await s.snapshots(["t"], 2000);
    assert.equal(snap?.lastAnswers.length, ANSWERS_KEPT);
    assert.equal(snap?.lastAnswers[0]?.at, 1000 + ANSWERS_KEPT + 4, "newest first");
    assert.equal(snap?.breaker.failures, ANSWERS_KEPT + 5);
    assert.equal(snap?.breaker.failingSince, 1000);
    // The success that ends the trouble is listed too, and is the last success.
    await s.record("t", OK, 3000, answer(3000, 204));
    const [healed] = await s.snapshots(["t"], 3001);
    assert.deepEqual(healed?.lastAnswers[0], answer(3000, 204));
    assert.equal(healed?.lastSuccessAt, 3000);
    assert.deepEqual(healed?.breaker, { state: "closed", failures: 0, openUntil: null, failingSince: null });
  });

  it("resume lifts the pause and closes an open breaker, keeping failingSince", async () => {
    const s = fresh(2);
    await s.record("t", FAIL, 100, answer(100, null, "E_TIMEOUT"));
    await s.record("t", FAIL, 200, answer(200, 503));
    await s.pause("t", 200 + 6 * 3600_000, 200);
    const [before] = await s.snapshots(["t"], 300);
    assert.deepEqual(before?.breaker, { state: "open", failures: 2, openUntil: 60_200, failingSince: 100 });
    assert.equal(before?.pausedUntil, 200 + 6 * 3600_000);
    assert.equal(await s.claimProbe("t", 60_000), true, "a probe lock is held");

    await s.resume("t");
    const [after] = await s.snapshots(["t"], 300);
    assert.deepEqual(after?.breaker, { state: "closed", failures: 0, openUntil: null, failingSince: 100 });
    assert.equal(after?.pausedUntil, null);
    assert.equal(await s.admit("t", null, 300), 0, "nothing holds a request back");
    assert.equal(await s.claimProbe("t", 60_000), true, "the probe lock was freed");
    // Counting starts again: one failure does not reopen it, the threshold does.
    assert.equal((await s.record("t", FAIL, 400)).state, "closed");
    const reopened = await s.record("t", FAIL, 500);
    assert.deepEqual(
      reopened,
      { state: "open", openUntil: 60_500, failingSince: 100 },
      "first cooldown again",
    );
  });

  it("resume of a target with no state leaves none behind", async () => {
    const s = fresh();
    await s.resume("quiet");
    const [snap] = await s.snapshots(["quiet"], 1);
    assert.deepEqual(snap, {
      breaker: { state: "closed", failures: 0, openUntil: null, failingSince: null },
      pausedUntil: null,
      lastAnswers: [],
      lastSuccessAt: null,
    });
  });

  it("notes a plain success at most every SUCCESS_NOTE_MS per target", async () => {
    const s = fresh();
    s.noteSuccess("t", 10_000);
    s.noteSuccess("t", 10_000 + SUCCESS_NOTE_MS - 1);
    // A command sent after the notes on the same connection is answered after them.
    assert.equal((await s.snapshots(["t"], 20_000))[0]?.lastSuccessAt, 10_000);
    s.noteSuccess("t", 10_000 + SUCCESS_NOTE_MS);
    assert.equal((await s.snapshots(["t"], 30_000))[0]?.lastSuccessAt, 10_000 + SUCCESS_NOTE_MS);
  });
});

describe("a resume reaches every process's gate", () => {
  const req = (now: number) => ({ target: "t", maxConcurrency: 4, rateLimit: null, probeHoldMs: 1000, now });

  it("a gate that remembers an open breaker admits once another process resumed the target", async () => {
    const prefix = `tr${n++}`;
    const worker = fresh(1, prefix);
    const gate = new TargetGate(worker);
    const now = Date.now();
    gate.remember("t", await worker.record("t", FAIL, now));
    const refused = await gate.admit(req(now));
    assert.equal(refused.ok, false);
    if (!refused.ok) assert.match(refused.reason, /breaker open/);

    // The API's own TargetState, on its own connection: the worker's memory is not touched.
    const api = new Redis(server.url);
    try {
      const settings = { failureThreshold: 1, cooldownMs: 60_000, maxCooldownMs: 60_000 };
      await new TargetState(api, redisKeys(prefix), settings).resume("t");
    } finally {
      api.disconnect();
    }
    const admitted = await gate.admit(req(now));
    assert.equal(admitted.ok, true, "the gate asked Redis again before refusing");
    if (admitted.ok) admitted.release();
    assert.equal(gate.knowsTrouble("t"), true, "no success yet: the next one is reported");
  });

  it("a gate told of a pause admits once another process resumed the target", async () => {
    const prefix = `tr${n++}`;
    const worker = fresh(1, prefix);
    const gate = new TargetGate(worker);
    const now = Date.now();
    await worker.pause("t", now + 6 * 3600_000, now);
    gate.markPaused("t");
    assert.equal((await gate.admit(req(now))).ok, false);
    await fresh(1, prefix).resume("t");
    const admitted = await gate.admit(req(now));
    assert.equal(admitted.ok, true);
    if (admitted.ok) {
      assert.deepEqual(gate.lanes("t"), { inFlight: 1, waiting: 0 });
      admitted.release();
    }
    assert.deepEqual(gate.lanes("t"), { inFlight: 0, waiting: 0 });
  });
});
