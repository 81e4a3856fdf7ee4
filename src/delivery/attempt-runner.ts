import type { Dispatcher } from "undici";
import type { AttemptRecord, DeliveryStatus } from "../delivery-log/index.ts";
import type { ErrorReport } from "../shared/logger.ts";
import type { AttemptErrorCode } from "./attempt-error.ts";
import { buildRequest } from "./build-request.ts";
import type { DeferReason } from "./defer-reason.ts";
import { receiverOf } from "./receiver.ts";
import { isRequestBuildError } from "./request-build-error.ts";
import {
  type AttemptDecision,
  decideAfterAttempt,
  isSuccess,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  parseRetryAfterBody,
  type RetryPolicy,
} from "./retry-policy.ts";
import { Semaphore } from "./semaphore.ts";
import { type AttemptResult, sendRequest } from "./send.ts";
import { TargetGate } from "./target-gate.ts";
import {
  type BreakerView,
  failingTooLong,
  isBreakerFailure,
  rateLimitOf,
  targetKeyOf,
  targetPauseMs,
} from "./target-policy.ts";
import type { SignedTarget } from "./target-schema.ts";
import type { TargetState } from "./target-state.ts";

/*
 * One attempt at one delivery: admitted by the target gate, sent, what the answer says about the
 * target learned, and the retry policy's decision made. Recording the outcome is the caller's:
 * the delivery worker updates an existing record, the walker (a first attempt made straight from
 * the walk) writes the record with its outcome in one go. One instance per process, so the
 * walker and the worker share the per-target lanes and the attempt slots.
 */

/** What an attempt reads of its route: the target, what signs it, its retry schedule, its template kind. */
export interface AttemptRoute extends SignedTarget {
  retry: Pick<RetryPolicy, "scheduleMs" | "on4xx">;
  template?: { kind: string } | null | undefined;
}

/**
 * The route store's view of sends: whether the route is still on right before a send, with the
 * send registered so a delete answered meanwhile waits for it (RouteStore).
 */
export interface SendRegistry {
  beginSend(routeId: string, send: string, deadlineMs: number): Promise<"on" | "hold" | "drop" | "deleted">;
  endSend(routeId: string, send: string): Promise<void>;
}

/** Hookgate's own news about targets (OwnEvents). */
export interface TargetNews {
  breakerChanged(
    target: string,
    before: BreakerView | undefined,
    after: BreakerView,
    answer: { statusCode: number | null; errorCode: string | null },
  ): void;
  targetPaused(target: string, untilMs: number, statusCode: number | null): void;
}

export interface AttemptReport {
  routeId: string;
  target: string;
  outcome: AttemptDecision["kind"];
  statusCode: number | null;
  errorCode: AttemptErrorCode | null;
  durationMs: number;
  breaker: BreakerView | null;
}

/** What an attempt needs of its delivery. */
export interface AttemptSubject {
  id: string;
  routeId: string;
  body: string | null;
  contentType: string | null;
  attemptCount: number;
  runStart?: number | undefined;
}

export type AttemptOutcome =
  /** Put off, not counted as an attempt: `reason` says why in words, for logs. */
  | { kind: "deferred"; waitMs: number; code: DeferReason; reason: string }
  /** Not sent: the route was turned off or deleted since the caller read it. */
  | { kind: "route-off"; state: "hold" | "drop" | "deleted" }
  | {
      kind: "attempted";
      attempt: AttemptRecord;
      status: Exclude<DeliveryStatus, "pending" | "held">;
      nextAttemptAt: string | null;
      error: { code: string; message: string } | null;
      /** Set when status is "retrying". */
      retryDelayMs: number | null;
      reason: string;
      /** The route should be disabled, and why (410, a gone chat webhook, failing for days). */
      disableReason: string | null;
    };

export interface AttemptRunnerOptions {
  targets: TargetState;
  /** Whether Redis has room to record an attempt: none is sent when it has not. */
  storage?: { verdict(): { sends: boolean } };
  /** Checks the route's state right before each send and registers the send. */
  routes: SendRegistry;
  dispatcher: Dispatcher;
  /** Attempts in flight in this process, whatever asked for them. */
  concurrency: number;
  /** Requests in flight per target in this process, unless the route sets target.maxConcurrency. */
  targetConcurrency: number;
  /** A route whose target has not succeeded for this long is disabled. */
  disableAfterMs: number;
  excerptBytes: number;
  now?: () => number;
  /** Told about every attempt (metrics). */
  onAttempt?: (report: AttemptReport) => void;
  /** Hookgate's own events: a breaker opened or closed, a pause a target asked for. */
  ownEvents?: TargetNews;
  /** Errors of work no caller waits for (a send's registration that could not be removed). */
  onError?: ErrorReport;
}

/** An answer slower than this takes the target off the direct path for a while. */
const DIRECT_SLOW_MS = 1_000;
/** How long a target that failed or answered slowly gets its first attempts through the queue. */
const DIRECT_COOLDOWN_MS = 30_000;
/** How long an attempt waits for Redis to have room again before it asks again. */
const STORAGE_FULL_WAIT_MS = 1_000;
/** A send's registration outlives its timeout by this much (reading the answer, a busy host). */
const SEND_REGISTRATION_SLACK_MS = 5_000;

export class AttemptRunner {
  readonly gate: TargetGate;
  readonly #o: AttemptRunnerOptions;
  readonly #slots: Semaphore;
  /** Targets kept off the direct path until then (ms). */
  readonly #offDirect = new Map<string, number>();
  #sends = 0;

  constructor(options: AttemptRunnerOptions) {
    this.#o = options;
    // One clock for the runner and its gate: a lane freed or a waiter woken is timed as the
    // requests are.
    this.gate = new TargetGate(options.targets, () => this.#now());
    this.#slots = new Semaphore(options.concurrency);
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  /**
   * Whether a first attempt to this route's target may be made from the walk itself, holding its
   * event in the stream until it is answered: only while the target answers well and fast (a
   * slow or failing target goes through the queue, where waiting costs nothing).
   */
  directOk(route: Pick<AttemptRoute, "target">): boolean {
    const target = targetKeyOf(route.target.url);
    if (this.gate.knowsTrouble(target)) return false;
    const until = this.#offDirect.get(target);
    if (until === undefined) return true;
    if (until > this.#now()) return false;
    this.#offDirect.delete(target);
    return true;
  }

  /**
   * One attempt. `patient`: the delivery is already in memory (a bundle, a walk) and waits for a
   * lane while its target's lanes keep moving, or is handed back at once (see TargetGate).
   */
  async run(
    route: AttemptRoute,
    subject: AttemptSubject,
    mode: { patient?: boolean } = {},
  ): Promise<AttemptOutcome> {
    // What is sent must be recorded: with Redis full, it waits (it would otherwise go twice).
    if (this.#o.storage && !this.#o.storage.verdict().sends) {
      return {
        kind: "deferred",
        waitMs: STORAGE_FULL_WAIT_MS,
        code: "storage_full",
        reason: "Redis is out of memory",
      };
    }
    const receiver = receiverOf(route.target.url, route.template?.kind);
    const target = targetKeyOf(route.target.url);
    const admission = await this.gate.admit({
      target,
      maxConcurrency: route.target.maxConcurrency ?? this.#o.targetConcurrency,
      rateLimit: rateLimitOf(route.target, receiver),
      probeHoldMs: route.target.timeoutMs + 1_000,
      now: this.#now(),
      patient: mode.patient === true,
    });
    if (!admission.ok) {
      return { kind: "deferred", waitMs: admission.waitMs, code: admission.code, reason: admission.reason };
    }
    const started = this.#now();
    let result: AttemptResult;
    let breaker: BreakerView | null = null;
    try {
      await this.#slots.acquire();
      const send = `${subject.id}:${subject.attemptCount + 1}:${process.pid}:${++this.#sends}`;
      try {
        // The route as it is now, not as the walk or the cache read it: nothing goes out for a
        // route once its delete was answered, or once it was turned off.
        const deadline = Date.now() + route.target.timeoutMs + SEND_REGISTRATION_SLACK_MS;
        const state = await this.#o.routes.beginSend(subject.routeId, send, deadline);
        if (state !== "on") return { kind: "route-off", state };
        try {
          result = await this.#send(route, subject, started);
        } finally {
          // Not awaited: the answer is what matters now; a registration that could not be
          // removed (Redis away) ends by its deadline, which is all a delete waits for.
          this.#o.routes
            .endSend(subject.routeId, send)
            .catch((err) => this.#o.onError?.(err, { routeId: subject.routeId, deliveryId: subject.id }));
        }
      } finally {
        this.#slots.release();
      }
      // What the answer says about the target as a whole (its breaker, a pause it asked for) is
      // stored before its lane is freed, so no request slips in between.
      breaker = await this.#learn(target, result);
    } finally {
      admission.release();
    }
    if (!isSuccess(result) || result.durationMs > DIRECT_SLOW_MS) {
      this.#offDirect.set(target, this.#now() + DIRECT_COOLDOWN_MS);
    }
    return this.#decide(route, subject, target, receiver, new Date(started), result, breaker);
  }

  #decide(
    route: AttemptRoute,
    subject: AttemptSubject,
    target: string,
    receiver: ReturnType<typeof receiverOf>,
    started: Date,
    result: AttemptResult,
    breaker: BreakerView | null,
  ): AttemptOutcome {
    const now = this.#now();
    // The schedule counts the attempts of this run (a manual retry starts a new one).
    const attemptsMade = subject.attemptCount - (subject.runStart ?? 0) + 1;
    const decision = decideAfterAttempt(attemptsMade, result, { ...route.retry, receiver }, now);
    this.#o.onAttempt?.({
      routeId: subject.routeId,
      target,
      outcome: decision.kind,
      statusCode: result.statusCode,
      errorCode: result.errorCode,
      durationMs: result.durationMs,
      breaker,
    });
    const attempt: AttemptRecord = {
      n: subject.attemptCount + 1,
      at: started.toISOString(),
      statusCode: result.statusCode,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      durationMs: result.durationMs,
      responseExcerpt: result.responseExcerpt,
    };
    const attempted = { kind: "attempted" as const, attempt, disableReason: null, retryDelayMs: null };
    if (decision.kind === "delivered") {
      return { ...attempted, status: "succeeded", nextAttemptAt: null, error: null, reason: "delivered" };
    }
    const error = {
      code: result.errorCode ?? "E_HTTP_STATUS",
      message: failureMessage(decision.reason, result),
    };
    const failingForDays = breaker !== null && failingTooLong(breaker, now, this.#o.disableAfterMs);
    if (decision.kind === "retry" && !failingForDays) {
      // An open breaker will not let the retry through before it half-opens: wait for that.
      const delayMs =
        breaker?.state === "open" ? Math.max(decision.delayMs, breaker.openUntil - now) : decision.delayMs;
      return {
        ...attempted,
        status: "retrying",
        nextAttemptAt: new Date(now + delayMs).toISOString(),
        error,
        retryDelayMs: delayMs,
        reason: decision.reason,
      };
    }
    let disableReason: string | null = null;
    if (failingForDays && breaker?.failingSince) {
      const since = new Date(breaker.failingSince).toISOString();
      disableReason = `the target has failed every attempt since ${since} (delivery ${subject.id})`;
    } else if (decision.kind === "failed" && decision.disableRoute) {
      disableReason = `${decision.reason} (delivery ${subject.id})`;
    }
    return {
      ...attempted,
      status: "failed",
      nextAttemptAt: null,
      error,
      reason: decision.reason,
      disableReason,
    };
  }

  /** Updates the target's shared state from an answer: its breaker, and any pause it asked for. */
  async #learn(target: string, result: AttemptResult): Promise<BreakerView | null> {
    const now = this.#now();
    const success = isSuccess(result);
    let breaker: BreakerView | null = null;
    if (!success || this.gate.knowsTrouble(target)) {
      // The answer is kept for operators (GET /v1/targets) in the same call as the breaker's
      // update; a plain success only has its time noted now and then, with no round trip.
      const answer = {
        at: now,
        statusCode: result.statusCode,
        errorCode: result.errorCode,
        durationMs: result.durationMs,
      };
      const before = this.gate.breakerKnown(target);
      breaker = await this.#o.targets.record(
        target,
        { success, breakerFailure: isBreakerFailure(result) },
        now,
        answer,
      );
      this.gate.remember(target, breaker);
      this.#o.ownEvents?.breakerChanged(target, before, breaker, answer);
    } else {
      this.#o.targets.noteSuccess(target, now);
    }
    const asked =
      parseRetryAfter(result.retryAfter, now) ?? parseRetryAfterBody(result.responseExcerpt || undefined);
    const pauseMs = targetPauseMs(result.statusCode, result.rateLimit, asked, MAX_RETRY_AFTER_MS);
    if (pauseMs !== null) {
      await this.#o.targets.pause(target, now + pauseMs, now);
      this.gate.markPaused(target);
      this.#o.ownEvents?.targetPaused(target, now + pauseMs, result.statusCode);
    }
    return breaker;
  }

  /** One HTTP attempt; a request that cannot be built (a missing ${ENV}) is a failed attempt. */
  async #send(route: AttemptRoute, subject: AttemptSubject, startedMs: number): Promise<AttemptResult> {
    let request: ReturnType<typeof buildRequest>;
    try {
      request = buildRequest(
        route,
        {
          messageId: subject.id,
          body: subject.body ?? "",
          contentType: subject.contentType ?? "application/json",
        },
        startedMs,
      );
    } catch (err) {
      if (!isRequestBuildError(err)) throw err;
      return {
        statusCode: null,
        errorCode: err.code,
        errorMessage: err.message,
        durationMs: 0,
        responseExcerpt: "",
        retryAfter: null,
        rateLimit: { remaining: null, resetAfter: null },
      };
    }
    return sendRequest(request, {
      dispatcher: this.#o.dispatcher,
      timeoutMs: route.target.timeoutMs,
      excerptBytes: this.#o.excerptBytes,
    });
  }
}

/**
 * The delivery's error message: the retry decision ("E_DNS (5 attempts, retries exhausted)")
 * and what the attempt ran into ("getaddrinfo ENOTFOUND …"), which is what tells a reader of
 * the delivery why without opening its attempts.
 */
export function failureMessage(reason: string, result: Pick<AttemptResult, "errorMessage">): string {
  const why = result.errorMessage?.trim();
  return why && !reason.includes(why) ? `${reason}: ${why}` : reason;
}
