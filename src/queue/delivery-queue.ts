import { type ConnectionOptions, Job, Queue } from "bullmq";
import { queueConnection, type RedisEndpoint } from "../shared/redis.ts";
import { DELIVERY_QUEUE } from "../shared/redis-keys.ts";
import {
  DELIVER_JOB_NAME,
  DELIVER_MANY_JOB_NAME,
  type DeliverManyJob,
  type DeliveryJob,
  deliveryJobId,
  FLUSH_JOB_NAME,
  type FlushJob,
  flushJobId,
  MAX_BUNDLE,
} from "./delivery-job.ts";

/** A retry count high enough never to be reached: the retry policy decides when to stop. */
export const POLICY_DECIDES_ATTEMPTS = 10_000;

export interface DeliverRequest {
  deliveryId: string;
  routeId: string;
  manualRetry?: number;
}

/** Producer side of the delivery queue (BullMQ Queue): used by walkers, workers and the API. */
export class DeliveryQueue {
  readonly queue: Queue;
  /** A Cluster client given to BullMQ, which BullMQ leaves open: closed here. */
  readonly #given: { disconnect(): void } | null;

  /** @param prefix BullMQ's key prefix: with Redis Cluster, in braces like the gateway's own ({hg}) */
  constructor(redis: string | RedisEndpoint, prefix: string) {
    const connection = queueConnection(redis);
    this.#given = "disconnect" in connection ? connection : null;
    this.queue = new Queue(DELIVERY_QUEUE, {
      // Given options, BullMQ owns the connection (and closes it); a shared one outlives close() and errors.
      // ioredis 6's options type is wider than the one BullMQ declares (retryStrategy may be null).
      connection: connection as ConnectionOptions,
      prefix,
      defaultJobOptions: {
        attempts: POLICY_DECIDES_ATTEMPTS,
        backoff: { type: "policy" },
        // Finished jobs are not needed: the delivery record is the history.
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 1000 },
      },
    });
  }

  async enqueue(jobs: readonly DeliverRequest[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(
      jobs.map((j) => {
        const data: DeliveryJob = { v: 1, kind: "deliver", deliveryId: j.deliveryId, routeId: j.routeId };
        return { name: DELIVER_JOB_NAME, data, opts: { jobId: deliveryJobId(j.deliveryId, j.manualRetry) } };
      }),
    );
  }

  /** First attempts of many deliveries, MAX_BUNDLE to a job. */
  async enqueueMany(deliveries: readonly DeliverRequest[]): Promise<void> {
    if (deliveries.length === 0) return;
    const jobs: { name: string; data: DeliverManyJob }[] = [];
    for (let i = 0; i < deliveries.length; i += MAX_BUNDLE) {
      const chunk = deliveries
        .slice(i, i + MAX_BUNDLE)
        .map((d) => ({ deliveryId: d.deliveryId, routeId: d.routeId }));
      jobs.push({ name: DELIVER_MANY_JOB_NAME, data: { v: 1, kind: "deliver-many", deliveries: chunk } });
    }
    await this.queue.addBulk(jobs);
  }

  /** One attempt later: a retry or a deferral, under the id that makes it happen once. */
  async later(deliveryId: string, routeId: string, delayMs: number, jobId: string): Promise<void> {
    const data: DeliveryJob = { v: 1, kind: "deliver", deliveryId, routeId };
    await this.queue.add(DELIVER_JOB_NAME, data, { jobId, delay: Math.max(0, Math.round(delayMs)) });
  }

  /** Queues a FIFO lane's new head now, even if its job is waiting out an earlier deferral. */
  async enqueueNow(job: DeliverRequest): Promise<void> {
    await this.enqueue([job]);
    const existing = await Job.fromId(this.queue, deliveryJobId(job.deliveryId, job.manualRetry));
    if (!existing || !(await existing.isDelayed())) return;
    // Only the race is let go: the job left the delayed set (it came due) after the check.
    await existing.promote().catch(async (err: unknown) => {
      if (await existing.isDelayed()) throw err;
    });
  }

  /** A flush of a route's batch buffer, identified by the buffer's oldest item. */
  async scheduleFlush(
    flushes: readonly { routeId: string; oldestOrder: string; delayMs: number; full: boolean }[],
  ): Promise<void> {
    if (flushes.length === 0) return;
    await this.queue.addBulk(
      flushes.map((f) => {
        const data: FlushJob = { v: 1, kind: "flush", routeId: f.routeId };
        return {
          name: FLUSH_JOB_NAME,
          data,
          opts: { jobId: flushJobId(f.routeId, f.oldestOrder, f.full), delay: Math.max(0, f.delayMs) },
        };
      }),
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.#given?.disconnect();
  }
}
