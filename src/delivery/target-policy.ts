import { createHash } from "node:crypto";
import type { Receiver } from "./retry-policy.ts";
import type { AttemptResult } from "./send.ts";

/*
 * What protects one target from us and the other targets from it, as pure decisions: which
 * endpoint a URL is, how fast it may be called, what counts against its circuit breaker, how
 * long the breaker stays open, and when a route has been failing long enough to be disabled.
 * The target gate carries them out (target-gate.ts); the shared state is in Redis (target-state.ts).
 */

/** URL → target key: asked for every attempt, remembered within a bound. */
const targetKeys = new Map<string, string>();

/** One endpoint: scheme, host, port and path (not the query), so routes to the same URL share limits. */
export function targetKeyOf(url: string): string {
  const known = targetKeys.get(url);
  if (known !== undefined) return known;
  let id = url;
  try {
    const u = new URL(url);
    id = `${u.protocol}//${u.host.toLowerCase()}${u.pathname}`;
  } catch {
    // Saved routes always have a valid URL; hash whatever came.
  }
  const key = createHash("sha1").update(id).digest("hex").slice(0, 20);
  if (targetKeys.size >= 10_000) targetKeys.clear();
  targetKeys.set(url, key);
  return key;
}
/** Slack's incoming webhooks take about one message per second; more is answered 429. */
export const SLACK_DEFAULT_RATE_PER_S = 1;

/** Requests per second to a target, or null for no limit. */
export function rateLimitOf(target: { rateLimit?: number | undefined }, receiver: Receiver): number | null {
  if (target.rateLimit !== undefined) return target.rateLimit;
  return receiver === "slack" ? SLACK_DEFAULT_RATE_PER_S : null;
}

/**
 * GCRA parameters: one request per `periodMs`, evenly spaced. No burst allowance: with one, a
 * full burst followed by the steady rate would put more than `perSecond` into the first second.
 */
export function rateShape(perSecond: number): { periodMs: number; burst: number } {
  return { periodMs: 1000 / perSecond, burst: 1 };
}

export interface RateLimitHeaders {
  remaining: string | null;
  resetAfter: string | null;
}

/**
 * How long every request to this target must wait, from what the answer said: Discord's bucket
 * headers (X-RateLimit-Remaining 0 with X-RateLimit-Reset-After seconds), or a 429/503 with
 * Retry-After or Discord's retry_after (already resolved to `askedMs` by the retry policy).
 */
export function targetPauseMs(
  statusCode: number | null,
  headers: RateLimitHeaders,
  askedMs: number | null,
  maxMs: number,
): number | null {
  if ((statusCode === 429 || statusCode === 503) && askedMs !== null && askedMs > 0) {
    return Math.min(askedMs, maxMs);
  }
  if (headers.remaining !== null && Number(headers.remaining) === 0 && headers.resetAfter !== null) {
    const seconds = Number(headers.resetAfter);
    if (Number.isFinite(seconds) && seconds > 0) return Math.min(Math.ceil(seconds * 1000), maxMs);
  }
  return null;
}

const NOT_THE_TARGETS_FAULT = new Set<string>([
  "E_BLOCKED_ADDRESS",
  "E_ENV_MISSING",
  "E_ENV_INVALID",
  "E_FORM_BODY",
]);

/**
 * Whether an attempt says the endpoint is unhealthy: no answer, a 5xx, or 408. A 429 is the
 * receiver pacing us (rate limits handle it) and other 4xx are answers about this request.
 */
export function isBreakerFailure(result: Pick<AttemptResult, "statusCode" | "errorCode">): boolean {
  // Our own refusals (blocked address, a request that could not be built) say nothing of the target.
  if (result.errorCode !== null && NOT_THE_TARGETS_FAULT.has(result.errorCode)) return false;
  if (result.errorCode !== null) return true;
  return result.statusCode === null || result.statusCode >= 500 || result.statusCode === 408;
}

export interface BreakerSettings {
  /** Consecutive failing attempts (across workers) that open the breaker. */
  failureThreshold: number;
  /** First open period; each reopening after a failed probe doubles it, up to `maxCooldownMs`. */
  cooldownMs: number;
  maxCooldownMs: number;
}

export type BreakerState = "closed" | "open" | "half-open";

export interface BreakerView {
  state: BreakerState;
  /** When an open breaker lets one probe through (ms). */
  openUntil: number;
  /** First failure since the last success (ms), or null when the last attempt succeeded. */
  failingSince: number | null;
}

/** The breaker as seen at `now`: an open breaker whose cooldown is over is half-open. */
export function breakerAt(view: BreakerView, now: number): BreakerState {
  if (view.state === "open" && now >= view.openUntil) return "half-open";
  return view.state;
}

/** A route whose target has failed without a success for this long is disabled. */
export function failingTooLong(view: BreakerView, now: number, disableAfterMs: number): boolean {
  return view.failingSince !== null && now - view.failingSince >= disableAfterMs;
}

/** Spreads retries of deferred jobs so a crowd does not come back in the same millisecond. */
export function spread(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 + 0.25 * random()));
}
