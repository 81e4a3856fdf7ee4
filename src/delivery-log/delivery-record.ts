import { z } from "zod";

export const DeliveryStatusSchema = z
  .enum(["pending", "retrying", "succeeded", "failed", "held"])
  .describe("held: kept while its route is turned off, sent in order when the route is turned on again");
export type DeliveryStatus = z.infer<typeof DeliveryStatusSchema>;

export const AttemptRecordSchema = z.object({
  n: z.int(),
  at: z.string(),
  statusCode: z.int().nullable(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  durationMs: z.number(),
  responseExcerpt: z.string(),
});
export type AttemptRecord = z.infer<typeof AttemptRecordSchema>;

export const DeliveryOutSchema = z
  .object({
    id: z.string(),
    routeId: z.string(),
    routeVersion: z.int(),
    eventId: z.string(),
    eventType: z.string(),
    status: DeliveryStatusSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
    attemptCount: z.int(),
    nextAttemptAt: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    contentType: z.string().nullable(),
    body: z.string().nullable(),
    order: z
      .string()
      .optional()
      .describe("Ingest order: the event's stream id (the first event's, for a batch)"),
    eventIds: z.array(z.string()).optional().describe("A batch's events, in order"),
    runStart: z
      .int()
      .optional()
      .describe("Attempts made before the current run (a manual retry starts a new run and schedule)"),
    attempts: z.array(AttemptRecordSchema).optional(),
  })
  .meta({ id: "Delivery" });
/** A record as stored: what the API shows, and the event of a walk that made no body. */
export type Delivery = z.infer<typeof DeliveryOutSchema> & { event?: string };

/** What the walker hands over for one route that took one event. */
export interface NewDelivery {
  id: string;
  routeId: string;
  routeVersion: number;
  eventId: string;
  eventType: string;
  /** A delivery whose walk failed (filter/map/template error) is recorded as failed, never queued. */
  error: { code: string; message: string } | null;
  contentType: string | null;
  body: string | null;
  /** The event's ingest order (src/queue/fifo-lane.ts streamOrder), for FIFO lanes. */
  order: string;
  /** Sent through the route's FIFO lane instead of straight to the queue. */
  fifo: boolean;
  /** A batch delivery's events. */
  eventIds?: string[];
  /** Kept for its route, which is turned off and holds (see routing/route-state.ts). */
  held?: boolean;
  /** The event as JSON, kept when the walk made no body (an error), for a retry to walk again. */
  event?: string;
  /** Made straight from the walk, before the record was written: recorded with it. */
  firstAttempt?: FirstAttempt;
}

export interface FirstAttempt {
  attempt: AttemptRecord;
  status: Exclude<DeliveryStatus, "pending" | "held">;
  nextAttemptAt: string | null;
  error: { code: string; message: string } | null;
}

/**
 * What creating a record found: "queue" (new and pending, or still pending after a crash: the
 * caller queues it), "recorded" (new, written with its first attempt or its walk error),
 * "exists" (an earlier walk of the same event recorded it and it has moved on).
 */
export type CreateResult = "queue" | "recorded" | "exists";
