import type { EmailStatus } from "../../events/index.ts";
import { isRecord } from "../../shared/json-value.ts";
import { bounceOf, firstOf, isEmailStatus, type RawView, rec, recOf } from "./view.ts";

/** The five systems' event names whose meaning does not depend on the body. */
const STATUS_BY_TYPE: Record<string, EmailStatus> = {
  messageNew: "received",
  NEW_EMAIL: "received",
  EMAIL_RECEIVED: "received",
  "message.appended": "received",
  "message.received": "received",
  email_processed: "received",
  messageSent: "sent",
  delivery: "delivered",
  messageDeliveryError: "deferred",
  messageFailed: "failed",
  messageBounce: "bounced",
  bounce: "bounced",
  "soft bounce": "bounced",
  BOUNCE: "bounced",
  BOUNCE_RECIPIENT: "bounced",
  messageComplaint: "complained",
  spam: "complained",
  reject: "rejected",
  "message.rejected": "rejected",
  trackOpen: "opened",
  open: "opened",
  EMAIL_OPENED: "opened",
  trackClick: "clicked",
  click: "clicked",
  listUnsubscribe: "unsubscribed",
  unsubscribe: "unsubscribed",
  listSubscribe: "subscribed",
};

const OUTBOUND = new Set<EmailStatus>([
  "sent",
  "delivered",
  "deferred",
  "bounced",
  "failed",
  "complained",
  "opened",
  "clicked",
  "unsubscribed",
  "subscribed",
  "suppressed",
]);

/**
 * Data in no known system's envelope (POST /v1/events, generic and Standard Webhooks sources):
 * each field under the names the email systems and mail parsers use for it. `status` is the
 * data's own when it is one of the view's, else what the event type means in one of the five
 * systems; `direction` the data's own, else what the status implies.
 */
export function genericView(value: unknown, type: string): RawView {
  const data = recOf(value);
  const status = isEmailStatus(data.status)
    ? data.status
    : Object.hasOwn(STATUS_BY_TYPE, type)
      ? STATUS_BY_TYPE[type]
      : undefined;
  const response = data.response;
  const responseText = isRecord(response) ? firstOf(response, ["message", "status"]) : response;
  const text = data.text;
  const direction =
    data.direction === "inbound" || data.direction === "outbound"
      ? data.direction
      : status === "received"
        ? "inbound"
        : status && OUTBOUND.has(status)
          ? "outbound"
          : undefined;
  const envelope = rec(data, "envelope");
  const headers = rec(data, "headers");
  return {
    status,
    bounce:
      data.bounce === "hard" || data.bounce === "soft"
        ? data.bounce
        : /soft/i.test(type)
          ? "soft"
          : (bounceOf(isRecord(response) ? response.status : data.response_code) ?? bounceOf(responseText)),
    // Only a delivery status is about one recipient; elsewhere `email` is often the account's own.
    recipient: status ? firstOf(data, ["recipient", "email"]) : undefined,
    reason: firstOf(data, ["reason", "error", "diagnosticCode"]) ?? responseText ?? data.details,
    subject: data.subject ?? headers.subject,
    from: firstOf(data, ["from", "sender"]) ?? envelope.from,
    to: firstOf(data, ["to", "recipients"]) ?? envelope.to,
    cc: data.cc,
    replyTo: firstOf(data, ["replyTo", "reply_to"]),
    messageId: firstOf(data, ["messageId", "message_id"]),
    inReplyTo: firstOf(data, ["inReplyTo", "in_reply_to"]),
    date: data.date,
    text: (isRecord(text) ? text.plain : text) ?? firstOf(data, ["preview", "snippet", "body"]),
    url: status === "clicked" ? data.url : undefined,
    mailbox: firstOf(data, ["mailbox", "path"]),
    direction,
  };
}
