import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Dispatcher } from "undici";
import { buildRequest, decideAfterAttempt, receiverOf, sendRequest } from "../delivery/index.ts";
import type { DeliveryLog } from "../delivery-log/index.ts";
import type { RouteStore, RouteTable } from "../routing/index.ts";
import { DELIVERY_QUEUE } from "../shared/redis-keys.ts";
import { DeliveryJobSchema } from "./delivery-job.ts";

/** Thrown to hand the delay the retry policy chose to BullMQ's backoff. */
class RetryLaterError extends Error {
  readonly delayMs: number;
  constructor(delayMs: number, reason: string) {
    super(reason);
    this.name = "RetryLaterError";
    this.delayMs = delayMs;
  }
}

export interface DeliveryWorkerOptions {
  redisUrl: string;
  prefix: string;
  routes: RouteTable;
  /** To disable a route whose receiver says the webhook is gone. */
  store: RouteStore;
  log: DeliveryLog;
  dispatcher: Dispatcher;
  concurrency: number;
  lockMs: number;
  excerptBytes: number;
  now?: () => number;
}

/** Consumer side of the delivery queue: one attempt per job run, recorded, then decided. */
export class DeliveryWorker {
  readonly worker: Worker;
  readonly #o: DeliveryWorkerOptions;

  constructor(options: DeliveryWorkerOptions) {
    this.#o = options;
    this.worker = new Worker(DELIVERY_QUEUE, (job) => this.#attempt(job), {
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
  }

  async #attempt(job: Job): Promise<void> {
    const { deliveryId, routeId } = DeliveryJobSchema.parse(job.data);
    const { log, routes } = this.#o;
    const now = this.#o.now ?? Date.now;
    const delivery = await log.get(deliveryId, false);
    // Expired past retention, or already finished by an earlier copy of this job.
    if (!delivery || delivery.status === "succeeded" || delivery.status === "failed") return;
    const compiled = await routes.forDelivery(routeId, delivery.routeVersion);
    if (!compiled?.route.enabled) {
      const code = compiled ? "HG_ERR_ROUTE_DISABLED" : "HG_ERR_ROUTE_DELETED";
      await log.fail(deliveryId, {
        code,
        message: `route ${routeId} is ${compiled ? "disabled" : "deleted"}`,
      });
      throw new UnrecoverableError(code);
    }
    const route = compiled.route;
    const started = new Date(now());
    const request = buildRequest(
      route,
      {
        messageId: deliveryId,
        body: delivery.body ?? "",
        contentType: delivery.contentType ?? "application/json",
      },
      started.getTime(),
    );
    const result = await sendRequest(request, {
      dispatcher: this.#o.dispatcher,
      timeoutMs: route.target.timeoutMs,
      excerptBytes: this.#o.excerptBytes,
    });
    const attemptsMade = job.attemptsMade + 1;
    const receiver = receiverOf(route.target.url, route.template?.kind);
    const decision = decideAfterAttempt(attemptsMade, result, { ...route.retry, receiver }, now());
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
      return;
    }
    const error = { code: result.errorCode ?? "E_HTTP_STATUS", message: decision.reason };
    if (decision.kind === "retry") {
      const nextAttemptAt = new Date(now() + decision.delayMs).toISOString();
      await log.recordAttempt(deliveryId, attempt, "retrying", { nextAttemptAt, error });
      throw new RetryLaterError(decision.delayMs, decision.reason);
    }
    await log.recordAttempt(deliveryId, attempt, "failed", { nextAttemptAt: null, error });
    if (decision.disableRoute)
      await this.#o.store.disable(routeId, `${decision.reason} (delivery ${deliveryId})`);
    throw new UnrecoverableError(decision.reason);
  }

  /** Waits for in-flight attempts to finish; unfinished jobs stay in Redis for the next worker. */
  async close(): Promise<void> {
    await this.worker.close();
  }
}
