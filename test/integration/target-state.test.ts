import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { TargetState } from "../../src/delivery/index.ts";
import { TargetGate } from "../../src/delivery/target-gate.ts";
import { redisKeys } from "../../src/shared/redis-keys.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

/* The Lua side of the breaker and the rate limiter, against a real Redis, with explicit clocks. */

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

function fresh(threshold = 3) {
  const state = new TargetState(redis, redisKeys(`ts${n++}`), {
    failureThreshold: threshold,
    cooldownMs: 1000,
    maxCooldownMs: 3000,
  });
  return state;
}

const FAIL = { success: false, breakerFailure: true };
const OK = { success: true, breakerFailure: false };
const ANSWERED_4XX = { success: false, breakerFailure: false };

describe("circuit breaker state", () => {
  it("opens after the threshold, lets one probe through after the cooldown, doubles it on failure", async () => {
    const s = fresh(3);
    assert.equal((await s.record("t", FAIL, 0)).state, "closed");
    assert.equal((await s.record("t", FAIL, 10)).state, "closed");
    const opened = await s.record("t", FAIL, 20);
    assert.deepEqual(opened, { state: "open", openUntil: 1020, failingSince: 0 });
    assert.equal(await s.claimProbe("t", 5000), true, "one probe");
    assert.equal(await s.claimProbe("t", 5000), false, "not two at once");
    const reopened = await s.record("t", FAIL, 1100);
    assert.equal(reopened.state, "open");
    assert.equal(reopened.openUntil, 1100 + 2000, "the cooldown doubles");
    assert.equal(await s.claimProbe("t", 5000), true, "a failed probe frees the lock for the next");
    const third = await s.record("t", FAIL, 3200);
    assert.equal(third.openUntil, 3200 + 3000, "capped at maxCooldownMs");
    assert.deepEqual(await s.record("t", OK, 6300), { state: "closed", openUntil: 0, failingSince: null });
    assert.deepEqual(await s.view("t"), { state: "closed", openUntil: 0, failingSince: null });
  });

  it("keeps failingSince through answers that are not the target's fault, and closes on them", async () => {
    const s = fresh(2);
    await s.record("t", FAIL, 100);
    const answered = await s.record("t", ANSWERED_4XX, 200);
    assert.deepEqual(answered, { state: "closed", openUntil: 0, failingSince: 100 });
    assert.equal((await s.record("t", FAIL, 300)).state, "closed", "the failure count restarted");
    assert.equal((await s.record("t", FAIL, 400)).state, "open");
  });
});

describe("rate limit and pause", () => {
  it("admits one request per period, evenly spaced, and says how long to wait", async () => {
    const s = fresh();
    const rate = { periodMs: 250, burst: 1 };
    assert.equal(await s.admit("t", rate, 1000), 0);
    assert.equal(await s.admit("t", rate, 1000), 250);
    assert.equal(await s.admit("t", rate, 1100), 150);
    assert.equal(await s.admit("t", rate, 1250), 0);
    assert.equal(await s.admit("t", null, 1250), 0, "no limit");
  });

  it("holds every request while paused, and only ever extends a pause", async () => {
    const s = fresh();
    await s.pause("t", 5000, 1000);
    await s.pause("t", 3000, 1000);
    assert.equal(await s.admit("t", null, 1000), 4000);
    assert.equal(await s.admit("t", null, 4999), 1);
    assert.equal(await s.admit("t", null, 5000), 0);
  });
});

describe("target gate", () => {
  const req = (patient = false) => ({
    target: "t",
    maxConcurrency: 1,
    rateLimit: null,
    probeHoldMs: 1000,
    now: Date.now(),
    patient,
  });

  it("hands a freed lane to the first waiter; refuses beyond as many waiters as lanes", async () => {
    const gate = new TargetGate(fresh());
    const a = await gate.admit(req());
    assert.equal(a.ok, true);
    const b = gate.admit(req());
    const c = await gate.admit(req());
    assert.equal(c.ok, false, "one lane: one waiter at most");
    if (a.ok) a.release();
    const admitted = await b;
    assert.equal(admitted.ok, true, "the waiter got the freed lane");
    if (admitted.ok) admitted.release();
  });

  it("keeps a bundle's delivery waiting while the target's lanes move", async () => {
    const gate = new TargetGate(fresh());
    const a = await gate.admit({ ...req(), target: "busy" });
    assert.equal(a.ok, true);
    // A lane was just taken: the target is moving, so the patient request waits for it.
    const b = gate.admit({ ...req(true), target: "busy" });
    setTimeout(() => a.ok && a.release(), 100);
    const admitted = await b;
    assert.equal(admitted.ok, true, "got the lane when it was freed");
    if (admitted.ok) admitted.release();
  });

  it("hands a bundle's delivery back at once when the target has taken or freed no lane lately", async () => {
    let now = 1_000_000;
    const gate = new TargetGate(fresh(), () => now);
    const a = await gate.admit({ ...req(), target: "hung", now });
    assert.equal(a.ok, true);
    // The one lane has been held for over a second with nothing moving: a hung target.
    now += 1100;
    const pending = gate.admit({ ...req(true), target: "hung", now });
    // A waiter would be queued before admit's first await: none is, so it was not held.
    assert.equal(gate.lanes("hung").waiting, 0, "not held waiting for a hung target");
    const b = await pending;
    assert.equal(b.ok, false);
  });

  it("keeps a bundle's delivery waiting while the same target moved within the second", async () => {
    // The counterpart of the test above on the same clock: the check there can tell the two apart.
    let now = 1_000_000;
    const gate = new TargetGate(fresh(), () => now);
    const a = await gate.admit({ ...req(), target: "recent", now });
    assert.equal(a.ok, true);
    now += 900;
    const pending = gate.admit({ ...req(true), target: "recent", now });
    assert.equal(gate.lanes("recent").waiting, 1, "waits for the moving target's lane");
    if (a.ok) a.release();
    const b = await pending;
    assert.equal(b.ok, true);
    if (b.ok) b.release();
  });

  it("refuses while the breaker is open and lets one probe through when it half-opens", async () => {
    const state = fresh(1);
    const gate = new TargetGate(state);
    gate.remember("t", await state.record("t", FAIL, Date.now()));
    const open = await gate.admit(req());
    assert.equal(open.ok, false);
    if (!open.ok) assert.match(open.reason, /breaker open/);
    const later = Date.now() + 1500;
    const probe = await gate.admit({ ...req(), now: later });
    assert.equal(probe.ok, true, "the probe");
    const second = await gate.admit({ ...req(), maxConcurrency: 5, now: later });
    assert.equal(second.ok, false, "one probe at a time");
    if (probe.ok) probe.release();
  });
});

describe("a target's last success", () => {
  it("is written without being waited for, and a failed write is reported, not swallowed", async () => {
    const offline = new Redis(server.url, { enableOfflineQueue: false, lazyConnect: true });
    const clientErrors: unknown[] = [];
    offline.on("error", (err) => clientErrors.push(err)); // the client's own copy of the refusal
    const errors: Array<{ err: unknown; context: Record<string, unknown> }> = [];
    const state = new TargetState(
      offline,
      redisKeys(`ts${n++}`),
      { failureThreshold: 3, cooldownMs: 1000, maxCooldownMs: 3000 },
      (err, context) => errors.push({ err, context }),
    );
    // Never connected: the write is refused at once, and said to the error reporter.
    state.noteSuccess("t", 1_000);
    await new Promise<void>((resolve) => {
      const check = () => (errors.length > 0 ? resolve() : setImmediate(check));
      check();
    });
    assert.deepEqual(errors[0]?.context, { target: "t" });
    assert.match(String(errors[0]?.err), /writeable|connect/i);
    offline.disconnect();
  });
});
