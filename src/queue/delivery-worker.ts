import { DelayedError, type Job, UnrecoverableError, Worker } from "bullmq";
import type { AttemptRunner, DeferReason } from "../delivery/index.ts";
import type { Delivery, DeliveryLog } from "../delivery-log/index.ts";
import type { OwnEvents } from "../own-events/index.ts";
import type { RouteStore, RouteTable } from "../routing/index.ts";
import type { ErrorReport } from "../shared/logger.ts";
import { createTrackedConnection, type RedisEndpoint, type TrackedConnection } from "../shared/redis.ts";
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
  | { kind: "defer"; waitMs: number; code: DeferReason; reason: string };
const DONE: Next = { kind: "done" };

/** How often a worker restarts FIFO lanes whose next delivery lost its job in a crash. */
const LANE_SWEEP_MS = 5_000;
/** How long BullMQ's close gets after this worker's own jobs have finished. */
const CLOSE_GRACE_MS = 2_000;
/** How long a FIFO delivery whose turn has not come waits before asking again. */
const TURN_WAIT_MS = 250;

export interface DeliveryWorkerOptions {
  redis: string | RedisEndpoint;
  prefix: string;
  routes: RouteTable;
  /** To disable a route whose receiver says the webhook is gone, or that fails for days. */
  store: RouteStore;
  log: DeliveryLog;
  scheduler: DeliveryScheduler;
  /** Makes the attempts; shared with the walker's direct first attempts. */
  runner: AttemptRunner;
  concurrency: number;
  lockMs: number;
  now?: () => number;
  /** Told when an attempt is deferred without being made (metrics). */
  onDeferred?: (reason: DeferReason) => void;
  /** Hookgate's own events: a delivery failed for good. */
  ownEvents?: Pick<OwnEvents, "deliveryFailed">;
  /** Errors no job answers for: BullMQ's (its connections, a lost lock), the FIFO lane sweep. */
  onError?: ErrorReport;
}

/**
 * Consumer side of the delivery queue: one attempt per job run, admitted by the target gate,
 * recorded, then decided. Flush jobs cut batch buffers into deliveries.
 */
export class DeliveryWorker {
  readonly worker: Worker;
  readonly #o: DeliveryWorkerOptions;
  readonly #sweeper: NodeJS.Timeout;
  /** Jobs being run here: close waits for them. */
  readonly #active = new Set<Promise<void>>();
  /** The worker's Redis clients, made here rather than inside BullMQ so that close can end them. */
  readonly #connection: TrackedConnection;

  constructor(options: DeliveryWorkerOptions) {
    this.#o = options;
    this.#connection = createTrackedConnection(options.redis);
    this.worker = new Worker(DELIVERY_QUEUE, (job, token) => this.#run(job, token), {
      connection: this.#connection.client,
      prefix: options.prefix,
      // A job may hold up to MAX_BUNDLE deliveries; the attempts themselves are capped by the runner's slots,
      // and a job waiting on a slow target's deliveries must not keep the others from being read.
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: Math.max(500, Math.floor(options.lockMs / 2)),
      maxStalledCount: 1_000,
      settings: {
        backoffStrategy: (_attemptsMade, _type, err) => (err instanceof RetryLaterError ? err.delayMs : 0),
      },
    });
    // A delivery's failure is recorded in the delivery log, not here: "error" is BullMQ's own
    // trouble (Redis away, a lock lost), which an operator needs to see.
    const report: ErrorReport = options.onError ?? (() => {});
    this.worker.on("error", (err) => report(err, { queue: DELIVERY_QUEUE }));
    this.#sweeper = setInterval(() => {
      options.scheduler.sweepLanes().catch((err) => report(err, { task: "sweep FIFO lanes" }));
    }, LANE_SWEEP_MS);
    this.#sweeper.unref();
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  async #run(job: Job, token: string | undefined): Promise<void> {
    const run = this.#runJob(job, token);
    this.#active.add(run);
    try {
      await run;
    } finally {
      this.#active.delete(run);
    }
  }

  async #runJob(job: Job, token: string | undefined): Promise<void> {
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
      this.#o.onDeferred?.(next.code);
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
            this.#o.onDeferred?.(next.code);
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

  /** One attempt at one delivery, recorded, and what comes next. */
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
    // Its walk made no body (the record keeps the event for a retry to walk again): never sent
    // empty. The API walks it again before it queues it; this is only ever an old job.
    if (delivery.event !== undefined) {
      const message = `delivery ${deliveryId} has no body: its walk failed; a retry walks the event again`;
      await log.fail(deliveryId, delivery.error ?? { code: "HG_ERR_NO_BODY", message });
      return finished({ kind: "failed", reason: "no body" });
    }
    // Held by a route that is still off; held on a route turned on, it goes now (see releaseHeld).
    if (!compiled?.route.enabled)
      return delivery.status === "held" ? DONE : this.#routeOff(delivery, finished);
    const route = compiled.route;
    if (fifo && (await scheduler.lanes.turn(routeId, deliveryId, member)) === "wait") {
      return {
        kind: "defer",
        waitMs: TURN_WAIT_MS,
        code: "fifo_turn",
        reason: "waiting for its turn in the FIFO lane",
      };
    }
    const out = await this.#o.runner.run(route, delivery, { patient: inBundle });
    if (out.kind === "deferred") {
      return { kind: "defer", waitMs: out.waitMs, code: out.code, reason: out.reason };
    }
    if (out.kind === "route-off") return this.#routeOff(delivery, finished);
    await log.recordAttempt(deliveryId, out.attempt, out.status, {
      nextAttemptAt: out.nextAttemptAt,
      error: out.error,
    });
    if (out.status === "succeeded") return finished(DONE);
    if (out.status === "retrying") {
      return { kind: "retry", delayMs: out.retryDelayMs ?? 0, reason: out.reason, attempts: out.attempt.n };
    }
    this.#o.ownEvents?.deliveryFailed({ ...delivery, attempts: out.attempt.n, error: out.error });
    if (out.disableReason) await this.#o.store.disable(routeId, out.disableReason);
    return finished({ kind: "failed", reason: out.reason });
  }

  /**
   * A delivery whose route is not on (as the cache or the send's check saw it): held while the
   * route holds (sent when it is turned on again, so a FIFO lane keeps it at its head), failed
   * with the reason when the route drops its events or is gone.
   */
  async #routeOff(delivery: Delivery, finished: <T extends Next>(next: T) => Promise<T>): Promise<Next> {
    const { log, routes } = this.#o;
    const state = await log.hold(delivery.id, delivery.routeId);
    if (state === "hold") return DONE;
    // Turned on again since it was read: the next try finds it on.
    if (state === "on") {
      await routes.refresh();
      return {
        kind: "defer",
        waitMs: TURN_WAIT_MS,
        code: "route_turned_on",
        reason: "its route was just turned on",
      };
    }
    const code = state === "drop" ? "HG_ERR_ROUTE_DISABLED" : "HG_ERR_ROUTE_DELETED";
    const message =
      state === "drop"
        ? `route ${delivery.routeId} is turned off and drops its events (whileDisabled: drop)`
        : `route ${delivery.routeId} was deleted`;
    await log.fail(delivery.id, { code, message });
    return finished({ kind: "failed", reason: code });
  }

  /** Waits for in-flight attempts to finish; unfinished jobs stay in Redis for the next worker. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    // BullMQ's close waits forever on a connection caught between reconnect attempts, as after a
    // Redis restart (taskforcesh/bullmq#4656): let its connections come back first, briefly.
    await untilConnected(this.#connection, CLOSE_GRACE_MS);
    const closing = this.worker.close();
    // Our jobs finishing is what matters: once they have, close gets a moment more, then the
    // process goes on without it.
    const ours = (async () => {
      while (this.#active.size > 0) await Promise.allSettled([...this.#active]);
      await new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref());
    })();
    const closed = await Promise.race([closing.then(() => true), ours.then(() => false)]);
    // The main client is ours (BullMQ leaves a given connection open); a close that did not
    // finish leaves the blocking one retrying, and the process alive, forever: both end here.
    for (const client of closed ? [this.#connection.client] : this.#connection.clients()) client.disconnect();
  }
}

/** Waits until the worker's clients are ready (or ended), or `ms`. */
async function untilConnected(connection: TrackedConnection, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (connection.clients().every((c) => c.status === "ready" || c.status === "end")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
