import { isRetryableAttemptCode } from "../errors.ts";

/*
 * What happens after an attempt, as a pure function of the attempt and the route's policy
 * (Svix calculate_retry_delay). No timers, no I/O: the worker carries out the decision.
 */

export type AttemptDecision =
  | { kind: "delivered" }
  | { kind: "retry"; delayMs: number; reason: string }
  | { kind: "failed"; reason: string; disableRoute: boolean };

/** What an attempt came back with: the retry policy's input. */
export interface AttemptAnswer {
  statusCode: number | null;
  errorCode: string | null;
  retryAfter: string | null;
  /** The start of the response body: Discord says how long to wait in `retry_after` there. */
  responseExcerpt?: string;
}

/**
 * Who answers. Slack and Discord webhooks answer 404 (and Slack 410) once the webhook was
 * deleted, which will not heal by retrying: the route is stopped instead.
 */
export type Receiver = "slack" | "discord" | "generic";

export interface RetryPolicy {
  scheduleMs: readonly number[];
  on4xx: boolean;
  receiver?: Receiver;
}

/** A 429 is retried no sooner than this even when told 0, so a receiver is never hammered. */
export const MIN_429_DELAY_MS = 1000;

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

/** Discord's 429 body: {"retry_after": 1.234, "global": false, ...} (seconds, fractional). */
export function parseRetryAfterBody(excerpt: string | undefined): number | null {
  if (!excerpt?.includes("retry_after")) return null;
  try {
    const value = (JSON.parse(excerpt) as { retry_after?: unknown }).retry_after;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return null;
    return Math.min(Math.ceil(value * 1000), MAX_RETRY_AFTER_MS);
  } catch {
    return null;
  }
}

function jittered(delayMs: number, random: () => number): number {
  return Math.round(delayMs * (1 - JITTER + 2 * JITTER * random()));
}

/** A 2xx answer and no error: the one outcome that delivers (the retry policy and the breaker agree). */
export function isSuccess(outcome: Pick<AttemptAnswer, "statusCode" | "errorCode">): boolean {
  const { statusCode, errorCode } = outcome;
  return errorCode === null && statusCode !== null && statusCode >= 200 && statusCode < 300;
}

/**
 * @param attemptsMade attempts so far, this one included (1 after the first try)
 */
export function decideAfterAttempt(
  attemptsMade: number,
  outcome: AttemptAnswer,
  policy: RetryPolicy,
  now: number,
  random: () => number = Math.random,
): AttemptDecision {
  if (isSuccess(outcome)) return { kind: "delivered" };
  const { statusCode, errorCode } = outcome;
  const reason = errorCode ?? `HTTP ${statusCode}`;
  // Some do not heal by waiting (an address refused by policy, a body that cannot be a form):
  // the catalog says which.
  if (errorCode !== null && !isRetryableAttemptCode(errorCode)) {
    return { kind: "failed", reason, disableRoute: false };
  }
  if (statusCode === 410) return { kind: "failed", reason: "HTTP 410 Gone", disableRoute: true };
  // A redirect is never followed (its Location was not checked against the address policy, and
  // Standard Webhooks counts it as a failure) and it does not heal by waiting: the same URL
  // answers the same 3xx on every retry, for days, while a FIFO lane waits behind it. It fails
  // at once so the route's owner fixes the URL and redrives.
  if (statusCode !== null && statusCode >= 300 && statusCode < 400) {
    return {
      kind: "failed",
      reason: `${reason} (redirect not followed, not retried: update the target URL)`,
      disableRoute: false,
    };
  }
  if (statusCode === 404 && (policy.receiver === "slack" || policy.receiver === "discord")) {
    return {
      kind: "failed",
      reason: `HTTP 404: the ${policy.receiver} webhook no longer exists`,
      disableRoute: true,
    };
  }
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
  const asked = parseRetryAfter(outcome.retryAfter, now) ?? parseRetryAfterBody(outcome.responseExcerpt);
  // 429 says exactly when to come back: wait as told. 503 may say so too: never sooner than told.
  if (statusCode === 429 && asked !== null) delayMs = Math.max(asked, MIN_429_DELAY_MS);
  if (statusCode === 503 && asked !== null) delayMs = Math.max(delayMs, asked);
  return { kind: "retry", delayMs, reason };
}
