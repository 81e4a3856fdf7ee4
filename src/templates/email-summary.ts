/**
 * Reads what a chat preset shows out of an email event of any origin. Hookgate events wrap the
 * source's body in `data`, and each email system names things its own way (EmailEngine `from:
 * {name, address}`, MailSlurp `from: "a@b"`, Mailtrap `email` for the recipient, Stalwart and
 * Mailpilot flat fields), so every field is looked up under the few names those systems use.
 * Nothing here escapes: the presets escape for their target.
 */
import { isRecord, type JsonRecord, own } from "./json-value.ts";
import { isoTime } from "./time.ts";

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

export function summarizeEmailEvent(payload: unknown): EmailSummary {
  const root = isRecord(payload) ? payload : {};
  // A Hookgate event carries the source body in `data`; a map output is read as that body itself.
  const isEvent = typeof own(root, "type") === "string" && Object.hasOwn(root, "data");
  const outer = isEvent ? (isRecord(own(root, "data")) ? (own(root, "data") as JsonRecord) : {}) : root;
  const eventType = text(own(root, "type")) ?? text(own(outer, "event")) ?? text(own(outer, "eventName"));
  // Events that came through a source keep the sender's whole body, and EmailEngine and Stalwart
  // wrap the message once more: {event|type, account, date, data: {subject, from, ...}}.
  const inner = own(outer, "data");
  const wrapped = isRecord(inner) && (text(own(outer, "event")) ?? text(own(outer, "type"))) !== null;
  const data = wrapped ? (inner as JsonRecord) : outer;
  const subject = line(first(data, ["subject"]) ?? nested(data, ["headers", "subject"]));
  const summary: EmailSummary = {
    eventType,
    kind: classifyEvent(eventType),
    title: subject ?? (eventType ? humanizeEventType(eventType) : "Email event"),
    subject,
    from: firstAddress(first(data, ["from", "sender"]) ?? nested(data, ["envelope", "from"])),
    to: addresses(
      first(data, ["to", "recipients", "recipient", "email"]) ?? nested(data, ["envelope", "to"]),
    ),
    account: line(isEvent ? (own(root, "account") ?? own(outer, "account")) : own(outer, "account")),
    source: isEvent ? line(own(root, "source")) : null,
    eventId: line(isEvent ? own(root, "id") : (own(data, "event_id") ?? own(data, "eventId"))),
    messageId: line(first(data, ["messageId", "message_id", "emailId"])),
    reason: reasonOf(data),
    text: bodyText(data),
    occurredAt: isoTime(isEvent ? own(root, "occurredAt") : undefined) ?? dataTime(outer),
    details: [],
  };
  summary.details = detailsOf(data, summary);
  return summary;
}

function first(record: JsonRecord, keys: string[]): unknown {
  for (const key of keys) {
    const value = own(record, key);
    if (value !== undefined && value !== null && value !== "") return value;
  }
  return undefined;
}

function nested(record: JsonRecord, path: string[]): unknown {
  let value: unknown = record;
  for (const key of path) value = isRecord(value) ? own(value, key) : undefined;
  return value;
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

/** `{name, address}` → "Name <address>"; strings as they are; `{email}` and `{emailAddress}` too. */
function formatAddress(value: unknown): string | null {
  if (isRecord(value)) {
    const address = line(own(value, "address") ?? own(value, "email") ?? own(value, "emailAddress"));
    const name = line(own(value, "name"));
    if (name && address && name !== address) return `${name} <${address}>`;
    return address ?? name;
  }
  return line(value);
}

function firstAddress(value: unknown): string | null {
  return Array.isArray(value)
    ? (value.map(formatAddress).find((a) => a !== null) ?? null)
    : formatAddress(value);
}

function addresses(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map(formatAddress).filter((a): a is string => a !== null);
}

function reasonOf(data: JsonRecord): string | null {
  for (const key of ["reason", "error", "response", "details", "bounceMessage", "diagnosticCode"]) {
    const value = own(data, key);
    const found = isRecord(value) ? (line(own(value, "message")) ?? line(own(value, "status"))) : line(value);
    if (found) return found;
  }
  return null;
}

/** Plain text first (EmailEngine `text.plain`), then previews; HTML is never shown. */
function bodyText(data: JsonRecord): string | null {
  const textField = own(data, "text");
  const candidates = [
    isRecord(textField) ? own(textField, "plain") : textField,
    own(data, "preview"),
    own(data, "snippet"),
    own(data, "body"),
  ];
  for (const candidate of candidates) {
    if (typeof candidate !== "string") continue;
    // Line by line rather than /[ \t]+\n/, which backtracks quadratically on long runs of spaces.
    const tidy = candidate
      .split(/\r\n?|\n/)
      .map((l) => l.trimEnd())
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trim();
    if (tidy !== "") return tidy;
  }
  return null;
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
