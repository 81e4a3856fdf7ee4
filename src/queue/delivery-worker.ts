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
import type { DeliveryJob, FlushJob } from "./delivery-job.ts";
import { QueueJobSchema } from "./delivery-job.ts";
import type { DeliveryScheduler } from "./delivery-scheduler.ts";
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

  constructor(options: DeliveryWorkerOptions) {
    this.#o = options;
    this.gate = new TargetGate(options.targets);
    this.worker = new Worker(DELIVERY_QUEUE, (job, token) => this.#run(job, token), {
      connection: { url: options.redisUrl, maxRetriesPerRequest: null },
      prefix: options.prefix,
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
    return this.#deliver(job, token, data);
  }

  async #flush(job: Job, data: FlushJob): Promise<void> {
    const compiled = await this.#o.routes.forDelivery(data.routeId, 0);
    await this.#o.scheduler.flush(data.routeId, job.id ?? "", compiled?.route ?? null, this.#now());
  }

  /** Gives the job back to the delayed set without counting an attempt; its lane is freed. */
  async #defer(job: Job, token: string | undefined, waitMs: number, reason: string): Promise<never> {
    this.#o.onDeferred?.(reason);
    await job.moveToDelayed(Date.now() + Math.max(1, waitMs), token);
    throw new DelayedError(reason);
  }

  async #deliver(job: Job, token: string | undefined, { deliveryId, routeId }: DeliveryJob): Promise<void> {
    const { log, routes, scheduler } = this.#o;
    const delivery = await log.get(deliveryId, false);
    // Expired past retention: nothing to send, nothing to order.
    if (!delivery) return;
    const compiled = await routes.forDelivery(routeId, delivery.routeVersion);
    const member = delivery.order ? `${delivery.order}|${deliveryId}` : "";
    const fifo = compiled?.route.ordering === "fifo";
    const finished = async () => {
      if (fifo) await scheduler.advance(routeId, member);
    };
    // Already finished by an earlier copy of this job.
    if (delivery.status === "succeeded" || delivery.status === "failed") return finished();
    if (!compiled?.route.enabled) {
      const code = compiled ? "HG_ERR_ROUTE_DISABLED" : "HG_ERR_ROUTE_DELETED";
      const reason = compiled?.route.disabledReason ? `: ${compiled.route.disabledReason}` : "";
      await log.fail(deliveryId, {
        code,
        message: `route ${routeId} is ${compiled ? "disabled" : "deleted"}${reason}`,
      });
      await finished();
      throw new UnrecoverableError(code);
    }
    const route = compiled.route;
    if (fifo && (await scheduler.lanes.turn(routeId, deliveryId, member)) === "wait") {
      await this.#defer(job, token, TURN_WAIT_MS, "waiting for its turn in the FIFO lane");
    }
    const receiver = receiverOf(route.target.url, route.template?.kind);
    const target = targetKeyOf(route.target.url);
    const admission = await this.gate.admit({
      target,
      maxConcurrency: route.target.maxConcurrency ?? this.#o.targetConcurrency,
      rateLimit: rateLimitOf(route.target, receiver),
      probeHoldMs: route.target.timeoutMs + 1_000,
      now: this.#now(),
    });
    if (!admission.ok) await this.#defer(job, token, admission.waitMs, admission.reason);
    const started = new Date(this.#now());
    let result: AttemptResult;
    let breaker: BreakerView | null = null;
    try {
      result = await this.#send(route, delivery, started.getTime());
      // What the answer says about the target as a whole (its breaker, a pause it asked for) is
      // stored before the lane is freed, so no request slips in between.
      breaker = await this.#learn(target, result);
    } finally {
      if (admission.ok) admission.release();
    }
    const now = this.#now();
    const attemptsMade = job.attemptsMade + 1;
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
      return finished();
    }
    const error = { code: result.errorCode ?? "E_HTTP_STATUS", message: decision.reason };
    const failingForDays = breaker !== null && failingTooLong(breaker, now, this.#o.disableAfterMs);
    if (decision.kind === "retry" && !failingForDays) {
      // An open breaker will not let the retry through before it half-opens: wait for that.
      const delayMs =
        breaker?.state === "open" ? Math.max(decision.delayMs, breaker.openUntil - now) : decision.delayMs;
      const nextAttemptAt = new Date(now + delayMs).toISOString();
      await log.recordAttempt(deliveryId, attempt, "retrying", { nextAttemptAt, error });
      throw new RetryLaterError(delayMs, decision.reason);
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
    await finished();
    throw new UnrecoverableError(decision.reason);
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
