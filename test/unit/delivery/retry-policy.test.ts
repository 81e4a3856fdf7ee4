import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideAfterAttempt, MAX_RETRY_AFTER_MS, parseRetryAfter } from "../../../src/delivery/index.ts";

const policy = { scheduleMs: [1000, 60_000], on4xx: false };
const now = Date.parse("2026-11-23T12:00:00Z");
const mid = () => 0.5; // no jitter
const ok = (
  statusCode: number | null,
  errorCode: string | null = null,
  retryAfter: string | null = null,
) => ({
  statusCode,
  errorCode,
  retryAfter,
});

describe("decideAfterAttempt", () => {
  it("counts any 2xx as delivered", () => {
    for (const s of [200, 201, 204, 299])
      assert.deepEqual(decideAfterAttempt(1, ok(s), policy, now, mid), { kind: "delivered" });
  });

  it("retries 5xx, timeouts and connection errors on the schedule", () => {
    assert.deepEqual(decideAfterAttempt(1, ok(500), policy, now, mid), {
      kind: "retry",
      delayMs: 1000,
      reason: "HTTP 500",
    });
    assert.equal(decideAfterAttempt(2, ok(null, "E_TIMEOUT"), policy, now, mid).kind, "retry");
    const last = decideAfterAttempt(3, ok(502), policy, now, mid);
    assert.equal(last.kind, "failed");
    assert.match((last as { reason: string }).reason, /retries exhausted/);
  });

  it("fails a 3xx at once, never as success and never retried, whatever on4xx says", () => {
    for (const s of [300, 301, 302, 303, 304, 307, 308]) {
      for (const on4xx of [false, true]) {
        const d = decideAfterAttempt(1, ok(s), { ...policy, on4xx }, now, mid);
        assert.equal(d.kind, "failed", `${s}`);
        assert.match((d as { reason: string }).reason, new RegExp(`^HTTP ${s} \\(redirect not followed`));
        assert.equal((d as { disableRoute: boolean }).disableRoute, false);
      }
    }
  });

  it("does not retry 4xx except 408, 425 and 429, unless the route asks", () => {
    for (const s of [400, 401, 403, 404, 422])
      assert.equal(decideAfterAttempt(1, ok(s), policy, now, mid).kind, "failed");
    for (const s of [408, 425, 429])
      assert.equal(decideAfterAttempt(1, ok(s), policy, now, mid).kind, "retry");
    assert.equal(decideAfterAttempt(1, ok(403), { ...policy, on4xx: true }, now, mid).kind, "retry");
  });

  it("stops at once on 410 and on a blocked address", () => {
    assert.deepEqual(decideAfterAttempt(1, ok(410), policy, now, mid), {
      kind: "failed",
      reason: "HTTP 410 Gone",
      disableRoute: true,
    });
    assert.equal(decideAfterAttempt(1, ok(null, "E_BLOCKED_ADDRESS"), policy, now, mid).kind, "failed");
  });

  it("applies ±20 % jitter", () => {
    const low = decideAfterAttempt(1, ok(500), policy, now, () => 0);
    const high = decideAfterAttempt(1, ok(500), policy, now, () => 1);
    assert.deepEqual(
      [low, high].map((d) => (d as { delayMs: number }).delayMs),
      [800, 1200],
    );
  });

  it("waits as told on 429 (header or Discord's retry_after body), at least the schedule on 503", () => {
    const d = decideAfterAttempt(1, ok(429, null, "120"), policy, now, mid);
    assert.deepEqual(d, { kind: "retry", delayMs: 120_000, reason: "HTTP 429" });
    const soon = decideAfterAttempt(2, ok(429, null, "2"), policy, now, mid);
    assert.equal((soon as { delayMs: number }).delayMs, 2000, "told 2 s, waits 2 s, not the 60 s step");
    const zero = decideAfterAttempt(1, ok(429, null, "0"), policy, now, mid);
    assert.equal((zero as { delayMs: number }).delayMs, 1000, "never hammered");
    const discord = decideAfterAttempt(
      1,
      {
        ...ok(429),
        responseExcerpt: '{"message":"You are being rate limited.","retry_after":3.25,"global":false}',
      },
      policy,
      now,
      mid,
    );
    assert.equal((discord as { delayMs: number }).delayMs, 3250);
    const shorter = decideAfterAttempt(1, ok(503, null, "0"), policy, now, mid);
    assert.equal((shorter as { delayMs: number }).delayMs, 1000, "never sooner than the schedule");
    const longer = decideAfterAttempt(1, ok(503, null, "30"), policy, now, mid);
    assert.equal((longer as { delayMs: number }).delayMs, 30_000);
  });

  it("stops the route when a Slack or Discord webhook answers 404, retries a generic 404 never", () => {
    for (const receiver of ["slack", "discord"] as const) {
      const d = decideAfterAttempt(1, ok(404), { ...policy, receiver }, now, mid);
      assert.equal(d.kind, "failed");
      assert.equal((d as { disableRoute: boolean }).disableRoute, true);
    }
    const generic = decideAfterAttempt(1, ok(404), policy, now, mid);
    assert.deepEqual([generic.kind, (generic as { disableRoute: boolean }).disableRoute], ["failed", false]);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, and caps both", () => {
    assert.equal(parseRetryAfter("30", now), 30_000);
    assert.equal(parseRetryAfter("Mon, 23 Nov 2026 12:01:00 GMT", now), 60_000);
    assert.equal(parseRetryAfter("Mon, 23 Nov 2026 11:00:00 GMT", now), 0);
    assert.equal(parseRetryAfter("99999999", now), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter("soon", now), null);
    assert.equal(parseRetryAfter(null, now), null);
  });
});
