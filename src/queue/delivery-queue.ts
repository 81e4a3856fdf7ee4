import { Queue } from "bullmq";
import { DELIVERY_QUEUE } from "../shared/redis-keys.ts";
import { DELIVER_JOB_NAME, type DeliveryJob, deliveryJobId } from "./delivery-job.ts";

/** A retry count high enough never to be reached: the retry policy decides when to stop. */
export const POLICY_DECIDES_ATTEMPTS = 10_000;

/** Producer side of the delivery queue (BullMQ Queue): used by walkers and the API. */
export class DeliveryQueue {
  readonly queue: Queue;

  constructor(redisUrl: string, prefix: string) {
    this.queue = new Queue(DELIVERY_QUEUE, {
      // BullMQ owns this connection (and closes it); a shared one outlives close() and errors.
      connection: { url: redisUrl, maxRetriesPerRequest: null },
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

  async enqueue(
    jobs: readonly { deliveryId: string; routeId: string; manualRetry?: number }[],
  ): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(
      jobs.map((j) => {
        const data: DeliveryJob = { v: 1, kind: "deliver", deliveryId: j.deliveryId, routeId: j.routeId };
        return { name: DELIVER_JOB_NAME, data, opts: { jobId: deliveryJobId(j.deliveryId, j.manualRetry) } };
      }),
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
