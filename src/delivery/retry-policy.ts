/*
 * What happens after an attempt, as a pure function of the attempt and the route's policy
 * (Svix calculate_retry_delay). No timers, no I/O: the worker carries out the decision.
 */

export type AttemptDecision =
  | { kind: "delivered" }
  | { kind: "retry"; delayMs: number; reason: string }
  | { kind: "failed"; reason: string; disableRoute: boolean };

export interface AttemptOutcome {
  statusCode: number | null;
  errorCode: string | null;
  retryAfter: string | null;
}

export interface RetryPolicy {
  scheduleMs: readonly number[];
  on4xx: boolean;
}

/** Retry-After is honoured up to this; a receiver cannot park a delivery for weeks. */
export const MAX_RETRY_AFTER_MS = 6 * 3600 * 1000;
export const JITTER = 0.2;

// 408 Request Timeout, 425 Too Early and 429 Too Many Requests say "try again later".
const RETRYABLE_4XX = new Set([408, 425, 429]);

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. Null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(at - now, 0), MAX_RETRY_AFTER_MS);
}

function jittered(delayMs: number, random: () => number): number {
  return Math.round(delayMs * (1 - JITTER + 2 * JITTER * random()));
}

/**
 * @param attemptsMade attempts so far, this one included (1 after the first try)
 */
export function decideAfterAttempt(
  attemptsMade: number,
  outcome: AttemptOutcome,
  policy: RetryPolicy,
  now: number,
  random: () => number = Math.random,
): AttemptDecision {
  const { statusCode, errorCode } = outcome;
  if (statusCode !== null && statusCode >= 200 && statusCode < 300 && errorCode === null) {
    return { kind: "delivered" };
  }
  const reason = errorCode ?? `HTTP ${statusCode}`;
  if (errorCode === "E_BLOCKED_ADDRESS") return { kind: "failed", reason, disableRoute: false };
  if (statusCode === 410) return { kind: "failed", reason: "HTTP 410 Gone", disableRoute: true };
  if (
    statusCode !== null &&
    statusCode >= 400 &&
    statusCode < 500 &&
    !RETRYABLE_4XX.has(statusCode) &&
    !policy.on4xx
  ) {
    return { kind: "failed", reason: `${reason} (not retried: client error)`, disableRoute: false };
  }
  const planned = policy.scheduleMs[attemptsMade - 1];
  if (planned === undefined) {
    return {
      kind: "failed",
      reason: `${reason} (${attemptsMade} attempts, retries exhausted)`,
      disableRoute: false,
    };
  }
  let delayMs = jittered(planned, random);
  if (statusCode === 429 || statusCode === 503) {
    const asked = parseRetryAfter(outcome.retryAfter, now);
    if (asked !== null) delayMs = Math.max(delayMs, asked);
  }
  return { kind: "retry", delayMs, reason };
}
