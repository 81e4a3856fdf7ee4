import type { EmailStatus } from "../../events/index.ts";
import type { JsonRecord } from "../../shared/json-value.ts";
import type { RawView } from "./view.ts";

const STATUS: Record<string, EmailStatus> = {
  delivery: "delivered",
  bounce: "bounced",
  "soft bounce": "bounced",
  soft_bounce: "bounced",
  reject: "rejected",
  spam: "complained",
  suspension: "suppressed",
  open: "opened",
  click: "clicked",
  unsubscribe: "unsubscribed",
};

/**
 * One event of Mailtrap's batch: flat fields, one recipient each (`email`), Mailtrap's own
 * `message_id`, the server's `response` for bounces, `reason` for rejections and suspensions.
 * Mailtrap sends mail and tells what became of it, so every event is outbound.
 */
export function mailtrapView(item: JsonRecord, type: string): RawView {
  const status = Object.hasOwn(STATUS, type) ? STATUS[type] : undefined;
  return {
    status,
    // Mailtrap's `bounce` is permanent (its docs: "invalid email address"); `soft bounce` temporary.
    bounce: /soft/.test(type) ? "soft" : "hard",
    direction: "outbound",
    recipient: item.email,
    messageId: item.message_id,
    reason: item.response ?? item.reason,
    url: status === "clicked" ? item.url : undefined,
  };
}
