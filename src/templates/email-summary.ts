/**
 * What a chat preset shows of an email event of any origin. The email fields come from the
 * event's normalised view, `event.email` (src/sources/email-view/), so the presets know no sender's
 * shape; an event stored without one, or a map output, is read through the same view readers on
 * the fly. Only the extra details of events that are not about a message (auth, quota, reports)
 * are taken from the body's own short top-level values. Nothing here escapes: the presets escape
 * for their target.
 */
import type { EmailAddress, EmailStatus } from "../events/index.ts";
import { isRecord, type JsonRecord, own } from "../shared/json-value.ts";
import { isoTime } from "../shared/time.ts";
import { emailView, emailViewOf, type RawView } from "../sources/index.ts";

/** Drives the preset's colour and emoji. */
export type EventKind = "failure" | "success" | "incoming" | "other";

export interface EmailSummary {
  eventType: string | null;
  kind: EventKind;
  /** A one-line title: the subject, else the event type in words. */
  title: string;
  subject: string | null;
  from: string | null;
  to: string[];
  account: string | null;
  source: string | null;
  eventId: string | null;
  messageId: string | null;
  /** What became of the message ("bounced (hard)", "delivered"); null for new mail and non-mail events. */
  status: string | null;
  /** Why a bounce/failure/error happened, when the event says. */
  reason: string | null;
  /** Plain-text body (or preview) to excerpt, whitespace tidied. */
  text: string | null;
  /** ISO 8601 time the event happened, when known. */
  occurredAt: string | null;
  /** Other short top-level values, for events that are not about one message (auth, quota…). */
  details: Array<{ label: string; value: string }>;
}

const FAILURE = /bounce|fail|error|complain|reject|spam|suspen|quota|banned|block|drop|denied|invalid/i;
const SUCCESS = /deliver|sent|accept|success|processed|subscribe/i;
const INCOMING = /new|receiv|inbound|append|arriv|ingest/i;

/** Classifies an event type; failures are checked first so `messageDeliveryError` is red, not green. */
export function classifyEvent(eventType: string | null): EventKind {
  if (!eventType) return "other";
  if (FAILURE.test(eventType)) return "failure";
  if (/unsubscribe/i.test(eventType)) return "other";
  if (SUCCESS.test(eventType)) return "success";
  if (INCOMING.test(eventType)) return "incoming";
  return "other";
}

/** `messageNew` → "Message new", `NEW_EMAIL` → "New email", `message.accepted` → "Message accepted". */
export function humanizeEventType(eventType: string): string {
  const words = eventType
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s._:/-]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
  const sentence = words.join(" ");
  return sentence ? sentence.charAt(0).toUpperCase() + sentence.slice(1) : eventType;
}

const MAX_DETAILS = 6;
const MAX_DETAIL_CHARS = 200;
/** Keys read into named fields, so they are not repeated among the details. */
const USED_KEYS = new Set([
  "subject",
  "from",
  "sender",
  "to",
  "recipient",
  "recipients",
  "email",
  "envelope",
  "text",
  "html",
  "preview",
  "snippet",
  "body",
  "account",
  "messageId",
  "message_id",
  "emailId",
  "date",
  "timestamp",
  "createdAt",
  "created_at",
  "reason",
  "error",
  "response",
  "details",
  "event",
  "eventName",
  "type",
  "id",
  "event_id",
  "eventId",
  "headers",
  "attachments",
  "cc",
  "bcc",
  "replyTo",
]);

/** What the status means for the preset's colour: the sender's type name is only a fallback. */
const KIND_OF_STATUS: Record<EmailStatus, EventKind> = {
  received: "incoming",
  queued: "success",
  sent: "success",
  delivered: "success",
  subscribed: "success",
  deferred: "failure",
  bounced: "failure",
  failed: "failure",
  rejected: "failure",
  complained: "failure",
  suppressed: "failure",
  opened: "other",
  clicked: "other",
  unsubscribed: "other",
};

/** Views read on the fly keep whole values: the presets cut (and report) what they show. */
const WHOLE = { whole: true };

/**
 * An event's `email`. The stored view is bounded (a 10,000-character subject is kept as 500):
 * when it is what the body gives, the body's whole values are shown instead, so the preset cuts
 * them itself and reports it; a view that says otherwise than the body stands as it is.
 */
function eventView(root: JsonRecord, eventType: string | null, account: string | null) {
  const stored = own(root, "email");
  const kind = text(own(root, "sourceKind"));
  const whole = emailViewOf(kind, own(root, "data"), eventType ?? "", account, WHOLE);
  if (!isRecord(stored)) return whole;
  const bounded = emailViewOf(kind, own(root, "data"), eventType ?? "", account);
  const fromBody = JSON.stringify(bounded) === JSON.stringify(emailView(stored as RawView));
  return fromBody && whole ? whole : emailView(stored as RawView, WHOLE);
}

export function summarizeEmailEvent(payload: unknown): EmailSummary {
  const root = isRecord(payload) ? payload : {};
  // A Hookgate event carries the source body in `data`; a map output is read as that body itself.
  const isEvent = typeof own(root, "type") === "string" && Object.hasOwn(root, "data");
  const outer = isEvent ? (isRecord(own(root, "data")) ? (own(root, "data") as JsonRecord) : {}) : root;
  const eventType = text(own(root, "type")) ?? text(own(outer, "event")) ?? text(own(outer, "eventName"));
  // A sender's webhook body (EmailEngine, Stalwart) wraps the message once more in `data`.
  const inner = own(outer, "data");
  const wrapped = isRecord(inner) && (text(own(outer, "event")) ?? text(own(outer, "type"))) !== null;
  const data = wrapped ? (inner as JsonRecord) : outer;
  const account = line(isEvent ? (own(root, "account") ?? own(outer, "account")) : own(outer, "account"));
  const view = isEvent
    ? eventView(root, eventType, account)
    : emailViewOf(null, data, eventType ?? "", account, WHOLE);
  const subject = view?.subject ?? null;
  const to = (view?.to ?? []).map(formatAddress);
  if (to.length === 0 && view?.recipient) to.push(view.recipient);
  const summary: EmailSummary = {
    eventType,
    kind: view?.status ? KIND_OF_STATUS[view.status] : classifyEvent(eventType),
    title: subject ?? (eventType ? humanizeEventType(eventType) : "Email event"),
    subject,
    from: view?.from ? formatAddress(view.from) : null,
    to,
    account: account ?? view?.account ?? null,
    source: isEvent ? line(own(root, "source")) : null,
    eventId: line(isEvent ? own(root, "id") : (own(data, "event_id") ?? own(data, "eventId"))),
    messageId: view?.messageId ?? null,
    // New mail says so by its colour and event already.
    status:
      view?.status && view.status !== "received"
        ? view.bounce
          ? `${view.status} (${view.bounce})`
          : view.status
        : null,
    reason: view?.reason ?? null,
    text: view?.text ?? null,
    occurredAt: isoTime(isEvent ? own(root, "occurredAt") : undefined) ?? dataTime(outer),
    details: [],
  };
  summary.details = detailsOf(data, summary);
  return summary;
}

function text(value: unknown): string | null {
  if (typeof value === "string") return value.trim() === "" ? null : value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return null;
}

/** One line: folded headers and stray newlines collapse to single spaces. */
function line(value: unknown): string | null {
  const raw = text(value);
  if (raw === null) return null;
  const collapsed = raw.replace(/\s+/g, " ").trim();
  return collapsed === "" ? null : collapsed;
}

/** `{name, address}` → "Name <address>", or the address alone. */
function formatAddress(value: EmailAddress): string {
  return value.name ? `${value.name} <${value.address}>` : value.address;
}

function dataTime(data: JsonRecord): string | null {
  for (const key of ["date", "timestamp", "createdAt", "created_at"]) {
    const iso = isoTime(own(data, key));
    if (iso) return iso;
  }
  return null;
}

function detailsOf(data: JsonRecord, summary: EmailSummary): Array<{ label: string; value: string }> {
  const details: Array<{ label: string; value: string }> = [];
  for (const [key, value] of Object.entries(data)) {
    if (details.length >= MAX_DETAILS) break;
    if (USED_KEYS.has(key)) continue;
    const shown = line(value);
    if (shown === null || shown.length > MAX_DETAIL_CHARS) continue;
    details.push({ label: humanizeEventType(key), value: shown });
  }
  // Events about one message already say enough; details help auth, quota and report events.
  const aboutAMessage = summary.subject !== null || summary.from !== null || summary.text !== null;
  return aboutAMessage ? [] : details;
}
