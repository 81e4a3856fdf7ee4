import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  breakerAt,
  failingTooLong,
  isBreakerFailure,
  rateLimitOf,
  rateShape,
  targetKeyOf,
  targetPauseMs,
} from "../../../src/delivery/index.ts";

const NONE = { remaining: null, resetAfter: null };

describe("target policy", () => {
  it("names one endpoint by scheme, host, port and path, not by query or host case", () => {
    const a = targetKeyOf("https://Hooks.Example.com/x?token=1");
    assert.equal(a, targetKeyOf("https://hooks.example.com/x?token=2"));
    assert.notEqual(a, targetKeyOf("https://hooks.example.com/y"));
    assert.notEqual(a, targetKeyOf("http://hooks.example.com/x"));
    assert.notEqual(a, targetKeyOf("https://hooks.example.com:8443/x"));
    assert.match(a, /^[0-9a-f]{20}$/);
  });

  it("limits Slack to one request a second unless the route says otherwise", () => {
    assert.equal(rateLimitOf({}, "slack"), 1);
    assert.equal(rateLimitOf({ rateLimit: 3 }, "slack"), 3);
    assert.equal(rateLimitOf({}, "discord"), null, "Discord is paced by its headers");
    assert.equal(rateLimitOf({}, "generic"), null);
    assert.deepEqual(rateShape(4), { periodMs: 250, burst: 1 });
    assert.deepEqual(rateShape(0.5), { periodMs: 2000, burst: 1 });
  });

  it("pauses a target as long as a 429 or 503 asked, or until Discord's bucket resets", () => {
    assert.equal(targetPauseMs(429, NONE, 2000, 60_000), 2000);
    assert.equal(targetPauseMs(503, NONE, 90_000, 60_000), 60_000, "capped");
    assert.equal(targetPauseMs(500, NONE, 2000, 60_000), null, "a 500 asks for nothing");
    assert.equal(targetPauseMs(204, { remaining: "0", resetAfter: "1.25" }, null, 60_000), 1250);
    assert.equal(targetPauseMs(204, { remaining: "3", resetAfter: "1.25" }, null, 60_000), null);
    assert.equal(targetPauseMs(204, { remaining: "0", resetAfter: "soon" }, null, 60_000), null);
  });

  it("counts no answer, 5xx and 408 against the breaker, not 4xx, 429 or our own refusals", () => {
    const r = (statusCode: number | null, errorCode: string | null = null) =>
      isBreakerFailure({ statusCode, errorCode } as Parameters<typeof isBreakerFailure>[0]);
    assert.equal(r(null, "E_TIMEOUT"), true);
    assert.equal(r(null, "E_CONNECTION_REFUSED"), true);
    assert.equal(r(500), true);
    assert.equal(r(503), true);
    assert.equal(r(408), true);
    assert.equal(r(429), false);
    assert.equal(r(400), false);
    assert.equal(r(200), false);
    assert.equal(r(null, "E_BLOCKED_ADDRESS"), false);
    assert.equal(r(null, "E_ENV_MISSING"), false);
    assert.equal(r(null, "E_FORM_BODY"), false);
  });

  it("sees an open breaker as half-open once its cooldown is over", () => {
    const view = { state: "open" as const, openUntil: 1000, failingSince: 0 };
    assert.equal(breakerAt(view, 999), "open");
    assert.equal(breakerAt(view, 1000), "half-open");
    assert.equal(breakerAt({ state: "closed", openUntil: 0, failingSince: null }, 5), "closed");
  });

  it("disables only after failing without a success for the whole period", () => {
    const day = 24 * 3600 * 1000;
    assert.equal(failingTooLong({ state: "open", openUntil: 0, failingSince: 0 }, 5 * day, 5 * day), true);
    assert.equal(failingTooLong({ state: "open", openUntil: 0, failingSince: 1 }, 5 * day, 5 * day), false);
    assert.equal(failingTooLong({ state: "closed", openUntil: 0, failingSince: null }, 9 * day, day), false);
  });
});
