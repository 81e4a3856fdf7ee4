import { DelayedError, type Job, UnrecoverableError, Worker } from "bullmq";
import type { Dispatcher } from "undici";
import {
  type AttemptResult,
  type BreakerView,
  buildRequest,
  decideAfterAttempt,
  failingTooLong,
  isBreakerFailure,
  isRequestBuildError,
  isSuccess,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  parseRetryAfterBody,
  rateLimitOf,
  receiverOf,
  sendRequest,
  targetKeyOf,
  targetPauseMs,
} from "../delivery/index.ts";
import type { Delivery, DeliveryLog } from "../delivery-log/index.ts";
import type { Route, RouteStore, RouteTable } from "../routing/index.ts";
import { DELIVERY_QUEUE } from "../shared/redis-keys.ts";
import {
  type DeliverManyJob,
  type DeliveryJob,
  deferredJobId,
  type FlushJob,
  QueueJobSchema,
  retryJobId,
} from "./delivery-job.ts";
import type { DeliveryScheduler } from "./delivery-scheduler.ts";
import { Semaphore } from "./semaphore.ts";
import { TargetGate } from "./target-gate.ts";
import type { TargetState } from "./target-state.ts";

/** Thrown to hand the delay the retry policy chose to BullMQ's backoff. */
class RetryLaterError extends Error {
  readonly delayMs: number;
  constructor(delayMs: number, reason: string) {
    super(reason);
    this.name = "RetryLaterError";
    this.delayMs = delayMs;
  }
}

/** What happens after an attempt (or instead of one). */
type Next =
  | { kind: "done" }
  | { kind: "failed"; reason: string }
  | { kind: "retry"; delayMs: number; reason: string; attempts: number }
  | { kind: "defer"; waitMs: number; reason: string };
const DONE: Next = { kind: "done" };

/** How often a worker restarts FIFO lanes whose next delivery lost its job in a crash. */
const LANE_SWEEP_MS = 5_000;
/** How long a FIFO delivery whose turn has not come waits before asking again. */
const TURN_WAIT_MS = 250;

export interface AttemptReport {
  routeId: string;
  target: string;
  outcome: "delivered" | "retry" | "failed";
  statusCode: number | null;
  errorCode: string | null;
  durationMs: number;
  breaker: BreakerView | null;
}

export interface DeliveryWorkerOptions {
  redisUrl: string;
  prefix: string;
  routes: RouteTable;
  /** To disable a route whose receiver says the webhook is gone, or that fails for days. */
  store: RouteStore;
  log: DeliveryLog;
  scheduler: DeliveryScheduler;
  targets: TargetState;
  dispatcher: Dispatcher;
  concurrency: number;
  /** Requests in flight per target in this process, unless the route sets target.maxConcurrency. */
  targetConcurrency: number;
  /** A route whose target has not succeeded for this long is disabled. */
  disableAfterMs: number;
  lockMs: number;
  excerptBytes: number;
  now?: () => number;
  /** Told about every attempt (metrics). */
  onAttempt?: (report: AttemptReport) => void;
  /** Told when an attempt is deferred without being made (metrics). */
  onDeferred?: (reason: string) => void;
}

/**
 * Consumer side of the delivery queue: one attempt per job run, admitted by the target gate,
 * recorded, then decided. Flush jobs cut batch buffers into deliveries.
 */
export class DeliveryWorker {
  readonly worker: Worker;
  readonly gate: TargetGate;
  readonly #o: DeliveryWorkerOptions;
  readonly #sweeper: NodeJS.Timeout;
  /** Attempts in flight in this process, whatever job they came in. */
  readonly #slots: Semaphore;

  constructor(options: DeliveryWorkerOptions) {
    this.#o = options;
    this.gate = new TargetGate(options.targets);
    this.#slots = new Semaphore(options.concurrency);
    this.worker = new Worker(DELIVERY_QUEUE, (job, token) => this.#run(job, token), {
      connection: { url: options.redisUrl, maxRetriesPerRequest: null },
      prefix: options.prefix,
      // A job may hold up to MAX_BUNDLE deliveries; the attempts themselves are capped by #slots,
      // and a job waiting on a slow target's deliveries must not keep the others from being read.
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: Math.max(500, Math.floor(options.lockMs / 2)),
      maxStalledCount: 1_000,
      settings: {
        backoffStrategy: (_attemptsMade, _type, err) => (err instanceof RetryLaterError ? err.delayMs : 0),
      },
    });
    // Failures are expected outcomes recorded in the delivery log; keep them out of stderr.
    this.worker.on("error", () => {});
    this.#sweeper = setInterval(() => {
      options.scheduler.sweepLanes().catch(() => {});
    }, LANE_SWEEP_MS);
    this.#sweeper.unref();
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  async #run(job: Job, token: string | undefined): Promise<void> {
    const data = QueueJobSchema.parse(job.data);
    if (data.kind === "flush") return this.#flush(job, data);
    if (data.kind === "deliver-many") return this.#deliverMany(data);
    return this.#deliverOne(job, token, data);
  }

  async #flush(job: Job, data: FlushJob): Promise<void> {
    const compiled = await this.#o.routes.forDelivery(data.routeId, 0);
    await this.#o.scheduler.flush(data.routeId, job.id ?? "", compiled?.route ?? null, this.#now());
  }

  /**
   * One job, one delivery: what comes next is BullMQ's to carry out on this same job (a deferral
   * moves it back to the delayed set, a retry goes through the backoff), so it stays unique.
   */
  async #deliverOne(
    job: Job,
    token: string | undefined,
    { deliveryId, routeId }: DeliveryJob,
  ): Promise<void> {
    const next = await this.#attempt(deliveryId, routeId, await this.#o.log.get(deliveryId, false));
    if (next.kind === "defer") {
      this.#o.onDeferred?.(next.reason);
      await job.moveToDelayed(Date.now() + Math.max(1, next.waitMs), token);
      throw new DelayedError(next.reason);
    }
    if (next.kind === "retry") throw new RetryLaterError(next.delayMs, next.reason);
    if (next.kind === "failed") throw new UnrecoverableError(next.reason);
  }

  /**
   * First attempts of many deliveries in one job. What comes next for each is a job of its own,
   * under an id that a repeat of this job (after a crash) cannot queue twice.
   */
  async #deliverMany(data: DeliverManyJob): Promise<void> {
    const { log, scheduler } = this.#o;
    const records = await log.getMany(data.deliveries.map((d) => d.deliveryId));
    const failures: unknown[] = [];
    await Promise.all(
      data.deliveries.map(async ({ deliveryId, routeId }, i) => {
        try {
          const next = await this.#attempt(deliveryId, routeId, records[i] ?? null, true);
          if (next.kind === "defer") {
            this.#o.onDeferred?.(next.reason);
            await scheduler.later(deliveryId, routeId, next.waitMs, deferredJobId(deliveryId, Date.now()));
          } else if (next.kind === "retry") {
            await scheduler.later(deliveryId, routeId, next.delayMs, retryJobId(deliveryId, next.attempts));
          }
        } catch (err) {
          failures.push(err);
        }
      }),
    );
    // Unexpected (Redis went away): the job runs again; finished deliveries are skipped then.
    if (failures.length > 0) throw failures[0];
  }

  /** One attempt at one delivery, and the decision about what comes next. */
  async #attempt(
    deliveryId: string,
    routeId: string,
    delivery: Delivery | null,
    inBundle = false,
  ): Promise<Next> {
    const { log, routes, scheduler } = this.#o;
    // Expired past retention: nothing to send, nothing to order.
    if (!delivery) return DONE;
    const compiled = await routes.forDelivery(routeId, delivery.routeVersion);
    const member = delivery.order ? `${delivery.order}|${deliveryId}` : "";
    const fifo = compiled?.route.ordering === "fifo";
    const finished = async <T extends Next>(next: T): Promise<T> => {
      if (fifo) await scheduler.advance(routeId, member);
      return next;
    };
    // Already finished by an earlier copy of this job.
    if (delivery.status === "succeeded" || delivery.status === "failed") return finished(DONE);
    if (!compiled?.route.enabled) {
      const code = compiled ? "HG_ERR_ROUTE_DISABLED" : "HG_ERR_ROUTE_DELETED";
      const reason = compiled?.route.disabledReason ? `: ${compiled.route.disabledReason}` : "";
      await log.fail(deliveryId, {
        code,
        message: `route ${routeId} is ${compiled ? "disabled" : "deleted"}${reason}`,
      });
      return finished({ kind: "failed", reason: code });
    }
    const route = compiled.route;
    if (fifo && (await scheduler.lanes.turn(routeId, deliveryId, member)) === "wait") {
      return { kind: "defer", waitMs: TURN_WAIT_MS, reason: "waiting for its turn in the FIFO lane" };
    }
    const receiver = receiverOf(route.target.url, route.template?.kind);
    const target = targetKeyOf(route.target.url);
    const admission = await this.gate.admit({
      target,
      maxConcurrency: route.target.maxConcurrency ?? this.#o.targetConcurrency,
      rateLimit: rateLimitOf(route.target, receiver),
      probeHoldMs: route.target.timeoutMs + 1_000,
      now: this.#now(),
      patient: inBundle,
    });
    if (!admission.ok) return { kind: "defer", waitMs: admission.waitMs, reason: admission.reason };
    const started = new Date(this.#now());
    let result: AttemptResult;
    let breaker: BreakerView | null = null;
    try {
      await this.#slots.acquire();
      try {
        result = await this.#send(route, delivery, started.getTime());
      } finally {
        this.#slots.release();
      }
      // What the answer says about the target as a whole (its breaker, a pause it asked for) is
      // stored before its lane is freed, so no request slips in between.
      breaker = await this.#learn(target, result);
    } finally {
      admission.release();
    }
    const now = this.#now();
    // The schedule counts the attempts of this run (a manual retry starts a new one).
    const attemptsMade = delivery.attemptCount - (delivery.runStart ?? 0) + 1;
    const decision = decideAfterAttempt(attemptsMade, result, { ...route.retry, receiver }, now);
    const outcome = decision.kind === "delivered" ? "delivered" : decision.kind;
    this.#o.onAttempt?.({
      routeId,
      target,
      outcome,
      statusCode: result.statusCode,
      errorCode: result.errorCode,
      durationMs: result.durationMs,
      breaker,
    });

    const attempt = {
      n: delivery.attemptCount + 1,
      at: started.toISOString(),
      statusCode: result.statusCode,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      durationMs: result.durationMs,
      responseExcerpt: result.responseExcerpt,
    };
    if (decision.kind === "delivered") {
      await log.recordAttempt(deliveryId, attempt, "succeeded", { nextAttemptAt: null, error: null });
      return finished(DONE);
    }
    const error = { code: result.errorCode ?? "E_HTTP_STATUS", message: decision.reason };
    const failingForDays = breaker !== null && failingTooLong(breaker, now, this.#o.disableAfterMs);
    if (decision.kind === "retry" && !failingForDays) {
      // An open breaker will not let the retry through before it half-opens: wait for that.
      const delayMs =
        breaker?.state === "open" ? Math.max(decision.delayMs, breaker.openUntil - now) : decision.delayMs;
      const nextAttemptAt = new Date(now + delayMs).toISOString();
      await log.recordAttempt(deliveryId, attempt, "retrying", { nextAttemptAt, error });
      return { kind: "retry", delayMs, reason: decision.reason, attempts: attempt.n };
    }
    await log.recordAttempt(deliveryId, attempt, "failed", { nextAttemptAt: null, error });
    if (failingForDays && breaker?.failingSince) {
      const since = new Date(breaker.failingSince).toISOString();
      await this.#o.store.disable(
        routeId,
        `the target has failed every attempt since ${since} (delivery ${deliveryId})`,
      );
    } else if (decision.kind === "failed" && decision.disableRoute) {
      await this.#o.store.disable(routeId, `${decision.reason} (delivery ${deliveryId})`);
    }
    return finished({ kind: "failed", reason: decision.reason });
  }

  /** Updates the target's shared state from an answer: its breaker, and any pause it asked for. */
  async #learn(target: string, result: AttemptResult): Promise<BreakerView | null> {
    const now = this.#now();
    const success = isSuccess(result);
    let breaker: BreakerView | null = null;
    if (!success || this.gate.knowsTrouble(target)) {
      breaker = await this.#o.targets.record(
        target,
        { success, breakerFailure: isBreakerFailure(result) },
        now,
      );
      this.gate.remember(target, breaker);
    }
    const asked =
      parseRetryAfter(result.retryAfter, now) ?? parseRetryAfterBody(result.responseExcerpt || undefined);
    const pauseMs = targetPauseMs(result.statusCode, result.rateLimit, asked, MAX_RETRY_AFTER_MS);
    if (pauseMs !== null) {
      await this.#o.targets.pause(target, now + pauseMs, now);
      this.gate.markPaused(target);
    }
    return breaker;
  }

  /** One HTTP attempt; a request that cannot be built (a missing ${ENV}) is a failed attempt. */
  async #send(route: Route, delivery: Delivery, startedMs: number): Promise<AttemptResult> {
    let request: ReturnType<typeof buildRequest>;
    try {
      request = buildRequest(
        route,
        {
          messageId: delivery.id,
          body: delivery.body ?? "",
          contentType: delivery.contentType ?? "application/json",
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

  /** Waits for in-flight attempts to finish; unfinished jobs stay in Redis for the next worker. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await this.worker.close();
  }
}
