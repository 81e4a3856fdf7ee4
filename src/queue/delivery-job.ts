import { z } from "zod";

/*
 * The delivery job contract (Svix MessageTask): a versioned, tagged envelope that carries ids
 * only. The body lives in the delivery record; the signing secret is read from the route when the
 * attempt is made, so it never sits in the queue.
 * jobId = deliveryId (first run) or `${deliveryId}-r${n}` (manual retry n), so a walk repeated
 * after a crash cannot queue the same delivery twice.
 */
export const DeliveryJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal("deliver"),
  deliveryId: z.string(),
  routeId: z.string(),
});
export type DeliveryJob = z.infer<typeof DeliveryJobSchema>;

export const DELIVER_JOB_NAME = "deliver";

export function deliveryJobId(deliveryId: string, manualRetry = 0): string {
  return manualRetry > 0 ? `${deliveryId}-r${manualRetry}` : deliveryId;
}
