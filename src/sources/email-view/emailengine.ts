import type { JsonRecord } from "../../shared/json-value.ts";
import { bounceOf, dsnStatus, firstOf, onlyOne, type RawView, rec } from "./view.ts";

/** Message events read from a folder: what is in the mailbox, not a step of a delivery. */
const FOLDER_EVENTS = new Set(["messageNew", "messageDeleted", "messageUpdated", "messageMissing"]);

/**
 * EmailEngine's webhook `{account, path, specialUse, event, data}`: message fields in `data`
 * (a parsed message for messageNew, the SMTP envelope for sends, the DSN for bounces, the ARF
 * report and the reported message's headers for complaints, the tracking hit for opens and clicks).
 */
export function emailEngineView(body: JsonRecord, type: string): RawView {
  const data = rec(body, "data");
  const envelope = rec(data, "envelope");
  const mailbox =
    FOLDER_EVENTS.has(type) || type.startsWith("mailbox") ? (data.path ?? body.path) : body.path;
  const base: RawView = { mailbox, messageId: data.messageId };
  switch (type) {
    case "messageNew": {
      const folder = firstOf(data, ["messageSpecialUse", "specialUse"]) ?? body.specialUse;
      const sentFolder = folder === "\\Sent";
      return {
        ...base,
        // A message that appears in Sent was sent by the account; it did not arrive.
        status: sentFolder || folder === "\\Drafts" ? undefined : "received",
        direction: sentFolder ? "outbound" : folder === "\\Drafts" ? undefined : "inbound",
        subject: data.subject,
        from: data.from,
        to: data.to,
        cc: data.cc,
        replyTo: data.replyTo,
        inReplyTo: data.inReplyTo,
        date: data.date,
        text: rec(data, "text").plain,
      };
    }
    case "messageSent":
    case "messageDeliveryError":
    case "messageFailed": {
      const status = type === "messageSent" ? "sent" : type === "messageFailed" ? "failed" : "deferred";
      return {
        ...base,
        status,
        direction: "outbound",
        from: envelope.from,
        to: envelope.to,
        recipient: onlyOne(envelope.to),
        reason: status === "sent" ? undefined : data.error,
      };
    }
    case "messageBounce": {
      const response = rec(data, "response");
      return {
        ...base,
        ...dsnStatus(data.action, response.status ?? bounceOf(response.message)),
        direction: "outbound",
        recipient: data.recipient,
        reason: response.message ?? response.status,
      };
    }
    case "messageComplaint": {
      const arf = rec(data, "arf");
      const headers = rec(data, "headers");
      return {
        ...base,
        status: "complained",
        direction: "outbound",
        messageId: headers.messageId,
        recipient: onlyOne(arf.originalRcptTo),
        reason: arf.feedbackType,
        subject: headers.subject,
        from: headers.from,
        to: headers.to,
        date: headers.date,
      };
    }
    case "trackOpen":
    case "trackClick":
    case "listUnsubscribe":
    case "listSubscribe":
      return {
        ...base,
        status: TRACKING[type],
        direction: "outbound",
        recipient: data.recipient,
        url: type === "trackClick" ? data.url : undefined,
      };
    case "authenticationError":
    case "connectError":
      return { ...base, reason: data.response };
    case "messageMissing":
      return { ...base, reason: data.error };
    default:
      return base;
  }
}

const TRACKING = {
  trackOpen: "opened",
  trackClick: "clicked",
  listUnsubscribe: "unsubscribed",
  listSubscribe: "subscribed",
} as const;
