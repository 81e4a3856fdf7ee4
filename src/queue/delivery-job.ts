import { z } from "zod";

/*
 * The job contract (Svix MessageTask): a versioned, tagged envelope that carries ids only. The
 * body lives in the delivery record (or the batch buffer); the signing secret is read from the
 * route when the attempt is made, so it never sits in the queue.
 * - deliver: one attempt at a delivery. jobId = deliveryId (first run) or `${deliveryId}-r${n}`
 *   (manual retry n), so a walk repeated after a crash cannot queue the same delivery twice.
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

export const FlushJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal("flush"),
  routeId: z.string(),
});
export type FlushJob = z.infer<typeof FlushJobSchema>;

export const QueueJobSchema = z.discriminatedUnion("kind", [DeliverJobSchema, FlushJobSchema]);

export const DELIVER_JOB_NAME = "deliver";
export const FLUSH_JOB_NAME = "flush";

export function deliveryJobId(deliveryId: string, manualRetry = 0): string {
  return manualRetry > 0 ? `${deliveryId}-r${manualRetry}` : deliveryId;
}

export function flushJobId(routeId: string, oldestOrder: string, full: boolean): string {
  return `flush.${routeId}.${oldestOrder}${full ? ".full" : ""}`;
}
