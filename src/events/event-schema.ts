import { z } from "zod";
import { isOwnType, OWN_PREFIX } from "./own-event-types.ts";

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

/**
 * What a client may post to POST /v1/events: an event whose type is not one of Hookgate's own
 * (hookgate.*), so nobody can make a route believe the gateway disabled a route or lost a
 * delivery. The dry-run takes EventInSchema as it is: walking a hookgate.* event there is how a
 * route for them is tried.
 */
export const PostedEventInSchema = EventInSchema.extend({
  type: EventInSchema.shape.type.refine((type) => !isOwnType(type), {
    message: `the prefix "${OWN_PREFIX}" is reserved for Hookgate's own events`,
  }),
}).meta({ id: "PostedEventIn" });

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
  /** The sender's body (or what the client posted), exactly as it came. */
  data: unknown;
  /**
   * The email in it, read the same way whatever system sent it (src/sources/email-view/): on every
   * event from an email system's source, and on other events when their data has email fields.
   */
  email?: EmailView;
}

/**
 * What happened to the message, from the sender's event type (a small fixed set, so one filter
 * works for every system): arrived in a mailbox; taken into a server's queue; handed to the next
 * server; accepted by the recipient's server; delayed (will be retried); bounced (see `bounce`);
 * given up on; refused before delivery; reported as spam; opened; a link clicked; unsubscribed;
 * subscribed again; the recipient put on a suppression list.
 */
export const EMAIL_STATUSES = [
  "received",
  "queued",
  "sent",
  "delivered",
  "deferred",
  "bounced",
  "failed",
  "rejected",
  "complained",
  "opened",
  "clicked",
  "unsubscribed",
  "subscribed",
  "suppressed",
] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

export interface EmailAddress {
  /** The display name, or null when there is none. */
  name: string | null;
  address: string;
}

/**
 * `event.email`: a field the sender does not give is absent (never null, "" or []). Stored with
 * every event, so it is small: one-line strings of at most 500 characters, a text excerpt of at
 * most 500, at most 50 addresses per list.
 */
export interface EmailView {
  status?: EmailStatus;
  /** For `bounced`: permanent (5.x.x, bad recipient) or temporary (4.x.x, mailbox full). */
  bounce?: "hard" | "soft";
  /** The one address a delivery status is about (absent when it is about several: see `to`). */
  recipient?: string;
  /** Why: the server's answer to a bounce, failure or rejection, a complaint's feedback type, an error. */
  reason?: string;
  subject?: string;
  from?: EmailAddress;
  to?: EmailAddress[];
  cc?: EmailAddress[];
  replyTo?: EmailAddress[];
  /** The message's Message-ID header (or the sending system's message id when that is all it gives). */
  messageId?: string;
  inReplyTo?: string;
  /** ISO 8601: when the message was written (its Date header), not when the event happened. */
  date?: string;
  /** The start of the plain-text body, whitespace tidied. */
  text?: string;
  /** For `clicked`: the link. */
  url?: string;
  /** The same value as `event.account`. */
  account?: string;
  /** The folder the message is in (or the folder an event is about). */
  mailbox?: string;
  direction?: "inbound" | "outbound";
}
