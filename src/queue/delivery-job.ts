import { z } from "zod";

/*
 * The job contract (Svix MessageTask): a versioned, tagged envelope that carries ids only. The
 * body lives in the delivery record (or the batch buffer); the signing secret is read from the
 * route when the attempt is made, so it never sits in the queue.
 * - deliver-many: first attempts of the deliveries one walk commit recorded (up to 100): one
 *   queue job for many deliveries, which is most of the queue's cost saved on the hot path.
 * - deliver: one attempt at one delivery: a FIFO lane's head (jobId = deliveryId), a manual retry
 *   (`${deliveryId}-r${n}`), a retry after a failed attempt (`${deliveryId}-a${attempts made}`, so
 *   a worker repeating a job after a crash queues the retry once), or a deferred attempt.
 * - flush: cut a route's batch buffer into a delivery. jobId = flush.<route>.<oldest item order>,
 *   so one buffer state schedules one flush however many walks see it.
 */
export const DeliverJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal("deliver"),
  deliveryId: z.string(),
  routeId: z.string(),
});
export type DeliveryJob = z.infer<typeof DeliverJobSchema>;

export const MAX_BUNDLE = 100;

export const DeliverManyJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal("deliver-many"),
  deliveries: z
    .array(z.object({ deliveryId: z.string(), routeId: z.string() }))
    .min(1)
    .max(MAX_BUNDLE),
});
export type DeliverManyJob = z.infer<typeof DeliverManyJobSchema>;

export const FlushJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal("flush"),
  routeId: z.string(),
});
export type FlushJob = z.infer<typeof FlushJobSchema>;

export const QueueJobSchema = z.discriminatedUnion("kind", [
  DeliverJobSchema,
  DeliverManyJobSchema,
  FlushJobSchema,
]);

export const DELIVER_JOB_NAME = "deliver";
export const DELIVER_MANY_JOB_NAME = "deliver-many";
export const FLUSH_JOB_NAME = "flush";

export function deliveryJobId(deliveryId: string, manualRetry = 0): string {
  return manualRetry > 0 ? `${deliveryId}-r${manualRetry}` : deliveryId;
}

/** The job that sends a held delivery when its route is turned on at `at` (ms). */
export function releaseJobId(deliveryId: string, at: number): string {
  return `${deliveryId}-h${at}`;
}

export function retryJobId(deliveryId: string, attemptsMade: number): string {
  return `${deliveryId}-a${attemptsMade}`;
}

/** A deferred attempt (target busy, paused, breaker open, not its FIFO turn): unique each time. */
export function deferredJobId(deliveryId: string, now: number): string {
  return `${deliveryId}-w${now.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export function flushJobId(routeId: string, oldestOrder: string, full: boolean): string {
  return `flush.${routeId}.${oldestOrder}${full ? ".full" : ""}`;
}
