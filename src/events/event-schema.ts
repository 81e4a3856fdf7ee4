import { z } from "zod";

/** What a client may send to POST /v1/events. */
export const EventInSchema = z
  .strictObject({
    id: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
      .optional(),
    type: z.string().min(1).max(200),
    source: z.string().min(1).max(200).optional(),
    account: z.string().min(1).max(500).optional(),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
    data: z.unknown(),
  })
  .meta({
    id: "EventIn",
    example: {
      type: "messageNew",
      account: "support",
      data: { subject: "Invoice 1043", from: { name: "Ada", address: "ada@example.com" } },
    },
  });
export type EventIn = z.infer<typeof EventInSchema>;

/** An event as Hookgate stores and walks it: every field present. */
export interface HookgateEvent {
  id: string;
  type: string;
  source: string | null;
  /** The kind of the source (emailengine, stalwart, …) when the event came in through /v1/ingest. */
  sourceKind?: string | null;
  account: string | null;
  occurredAt: string;
  receivedAt: string;
  data: unknown;
}
