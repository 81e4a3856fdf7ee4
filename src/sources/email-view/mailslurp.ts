import type { JsonRecord } from "../../shared/json-value.ts";
import { onlyOne, type RawView } from "./view.ts";

/**
 * MailSlurp: one flat payload per event. Its `messageId` is the webhook's idempotency key, not
 * the mail's Message-ID, and its NEW_EMAIL carries no body (fetched by `emailId`), so `messageId`
 * and `text` stay absent.
 */
export function mailSlurpView(item: JsonRecord, type: string): RawView {
  switch (type) {
    case "NEW_EMAIL":
    case "EMAIL_RECEIVED":
      return {
        status: "received",
        direction: "inbound",
        subject: item.subject,
        from: item.from,
        to: item.to,
        cc: item.cc,
      };
    case "BOUNCE":
      // MailSlurp reports bounces that mean "do not email this recipient again": permanent ones.
      return {
        status: "bounced",
        bounce: "hard",
        direction: "outbound",
        from: item.sender,
        to: item.sentToRecipients,
        recipient: onlyOne(item.bounceRecipients),
      };
    case "BOUNCE_RECIPIENT":
      return { status: "bounced", bounce: "hard", direction: "outbound", recipient: item.recipient };
    case "DELIVERY_STATUS": {
      const code = typeof item.smtpStatusCode === "number" ? item.smtpStatusCode : 0;
      const status =
        code >= 200 && code < 300
          ? "delivered"
          : code >= 500
            ? "failed"
            : code >= 400
              ? "deferred"
              : undefined;
      return {
        status,
        direction: "outbound",
        subject: item.subject,
        to: item.recipients,
        recipient: onlyOne(item.recipients),
        reason: status === "delivered" ? undefined : item.smtpResponse,
      };
    }
    case "EMAIL_OPENED":
      return { status: "opened", direction: "outbound", recipient: item.recipient };
    default:
      return {};
  }
}
