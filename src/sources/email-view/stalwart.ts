import type { JsonRecord } from "../../shared/json-value.ts";
import { dsnStatus, onlyOne, type RawView, rec } from "./view.ts";

/**
 * One event of Stalwart's batch, `{id, createdAt, type, data}`: flat fields in `data` (`from` and
 * `to` as bare addresses, `reason` for refusals and auth failures, the DSN's `action`/`status`).
 * Stalwart names mailboxes by id only, so `mailbox` stays absent.
 */
export function stalwartView(item: JsonRecord, type: string): RawView {
  const data = rec(item, "data");
  const message: RawView = {
    messageId: data.messageId,
    subject: data.subject,
    from: data.from,
    to: data.to,
    reason: data.reason,
  };
  switch (type) {
    case "message.appended":
      return { ...message, status: "received", direction: "inbound" };
    case "message-ingest.ham":
    case "message-ingest.spam":
      // Classified on the way in; the mailbox's own `message.appended` is the arrival.
      return { ...message, direction: "inbound" };
    case "message.accepted":
      return { ...message, status: "queued", recipient: onlyOne(data.to) };
    case "message.rejected":
      return { ...message, status: "rejected", direction: "inbound", recipient: onlyOne(data.to) };
    case "dsn":
      return {
        ...message,
        ...dsnStatus(data.action, data.status),
        direction: "outbound",
        recipient: onlyOne(data.to),
      };
    case "double-bounce":
      // A bounce that could not be returned to its sender: nobody else will hear of the failure.
      return { ...message, status: "failed", recipient: onlyOne(data.to) };
    case "report.incoming.arf":
      return {
        status: "complained",
        direction: "outbound",
        from: data.originalMailFrom,
        recipient: onlyOne(data.originalRcptTo),
        reason: data.feedbackType,
      };
    default:
      return { reason: data.reason };
  }
}
