/**
 * The one place `event.email` is shaped and bounded. Each system's reader (a pure function of the
 * body it sent) hands over its raw values under the view's names; `emailView` turns them into the
 * stored view: absent, empty and unreadable values dropped, strings on one line and bounded,
 * addresses as `{name, address}`, times as ISO 8601, keys in one order.
 */
import { EMAIL_STATUSES, type EmailAddress, type EmailStatus, type EmailView } from "../../events/index.ts";
import { isRecord, type JsonRecord, own } from "../../shared/json-value.ts";
import { cutText } from "../../shared/text-cut.ts";
import { isoTime } from "../../shared/time.ts";

export type { EmailAddress, EmailStatus, EmailView };

/** One-line values (subject, reason, ids, names) past this are cut with "…". */
export const VIEW_LINE_CHARS = 500;
/** The text excerpt: a preview for a chat message or a filter, not the mail. */
export const VIEW_TEXT_CHARS = 500;
/** Addresses kept per list (to, cc, replyTo); a mail to thousands stays a small event. */
export const VIEW_MAX_ADDRESSES = 50;

/** What a reader found, unnormalised: any value may be missing or of the wrong type. */
export interface RawView {
  status?: EmailStatus;
  bounce?: "hard" | "soft";
  recipient?: unknown;
  reason?: unknown;
  subject?: unknown;
  from?: unknown;
  to?: unknown;
  cc?: unknown;
  replyTo?: unknown;
  messageId?: unknown;
  inReplyTo?: unknown;
  date?: unknown;
  text?: unknown;
  url?: unknown;
  account?: unknown;
  mailbox?: unknown;
  direction?: "inbound" | "outbound";
}

/** Options for views read on the fly rather than stored (the presets, for events without one). */
export interface ViewOptions {
  /** Keep values whole: the presets cut (and report) what they show by their own limits. */
  whole?: boolean;
}

export function emailView(raw: RawView, options: ViewOptions = {}): EmailView {
  const limits: Limits = options.whole
    ? { line: Number.POSITIVE_INFINITY, text: Number.POSITIVE_INFINITY, addresses: Number.POSITIVE_INFINITY }
    : STORED;
  const line = (value: unknown) => oneLine(value, limits.line);
  const addressOf = (value: unknown) => toAddress(value, limits.line);
  const addressList = (value: unknown) => toAddresses(value, limits);
  const recipient = addressOf(raw.recipient)?.address;
  const view: EmailView = {
    // Checked again: a view read back from JSON (a map output, a stored event) is only data.
    status: isEmailStatus(raw.status) ? raw.status : undefined,
    bounce:
      raw.status === "bounced" && (raw.bounce === "hard" || raw.bounce === "soft") ? raw.bounce : undefined,
    recipient,
    reason: line(raw.reason),
    subject: line(raw.subject),
    from: addressOf(raw.from),
    to: addressList(raw.to),
    cc: addressList(raw.cc),
    replyTo: addressList(raw.replyTo),
    messageId: line(raw.messageId),
    inReplyTo: line(raw.inReplyTo),
    date: isoTime(raw.date) ?? undefined,
    text: excerpt(raw.text, limits.text),
    url: line(raw.url),
    account: line(raw.account),
    mailbox: line(raw.mailbox),
    direction: raw.direction === "inbound" || raw.direction === "outbound" ? raw.direction : undefined,
  };
  for (const key of Object.keys(view) as Array<keyof EmailView>) {
    if (view[key] === undefined) delete view[key];
  }
  return view;
}

export function isEmailStatus(value: unknown): value is EmailStatus {
  return typeof value === "string" && (EMAIL_STATUSES as readonly string[]).includes(value);
}

/** `5.1.1`, `550 …` → hard; `4.2.2`, `452 …` → soft; undefined when the code says neither. */
export function bounceOf(code: unknown): "hard" | "soft" | undefined {
  const text = typeof code === "number" ? String(code) : typeof code === "string" ? code.trim() : "";
  if (/^5/.test(text)) return "hard";
  if (/^4/.test(text)) return "soft";
  return undefined;
}

/**
 * A DSN's action (RFC 3464: failed, delayed, delivered, relayed, expanded) as a status, with the
 * bounce kind from its status code; a failed DSN is a bounce.
 */
export function dsnStatus(action: unknown, statusCode: unknown): Pick<RawView, "status" | "bounce"> {
  const a = typeof action === "string" ? action.toLowerCase() : "";
  if (a === "delayed") return { status: "deferred" };
  if (a === "delivered" || a === "relayed" || a === "expanded") return { status: "delivered" };
  return { status: "bounced", bounce: bounceOf(statusCode) ?? "hard" };
}

/** A list's only member, for `recipient` (the one address a status is about). */
export function onlyOne(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.length === 1 ? value[0] : undefined;
}

/** The record under `key`, or an empty one: readers look into nested objects without checks. */
export function rec(record: JsonRecord, key: string): JsonRecord {
  const value = own(record, key);
  return isRecord(value) ? value : {};
}

export function recOf(value: unknown): JsonRecord {
  return isRecord(value) ? value : {};
}

/** The first of the keys with a non-empty value. */
export function firstOf(record: JsonRecord, keys: readonly string[]): unknown {
  for (const key of keys) {
    const value = own(record, key);
    if (value !== undefined && value !== null && value !== "") return value;
  }
  return undefined;
}

interface Limits {
  line: number;
  text: number;
  addresses: number;
}

const STORED: Limits = { line: VIEW_LINE_CHARS, text: VIEW_TEXT_CHARS, addresses: VIEW_MAX_ADDRESSES };

/** One line: folded headers and stray newlines collapse to single spaces; numbers as text. */
function oneLine(value: unknown, max: number): string | undefined {
  const raw = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
  if (typeof raw !== "string") return undefined;
  const collapsed = head(raw, max).replace(/\s+/g, " ").trim();
  return collapsed === "" ? undefined : cutText(collapsed, max);
}

/**
 * Work on an event's view is bounded by the view, not the body: only the start of a long value
 * is tidied (whitespace that tidying removes can cost at most that start its place).
 */
const READ_FACTOR = 8;

function head(value: string, max: number): string {
  const reach = max * READ_FACTOR;
  return value.length > reach ? value.slice(0, reach) : value;
}

/** Plain text, line ends trimmed and blank runs shortened, then cut. */
function excerpt(value: unknown, max: number): string | undefined {
  if (typeof value !== "string") return undefined;
  // Line by line rather than /[ \t]+\n/, which backtracks quadratically on long runs of spaces.
  const tidy = head(value, max)
    .split(/\r\n?|\n/)
    .map((l) => l.trimEnd())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return tidy === "" ? undefined : cutText(tidy, max);
}

/** `Name <a@b>` and `"Last, First" <a@b>`, the forms one header value takes. */
const NAMED = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<]*?))\s*<([^<>\s]+)>\s*$/;

/**
 * `{name, address}` (EmailEngine), `{name, email}` (JMAP, Mailtrap), `{emailAddress}`
 * (MailSlurp), `"Name <a@b>"` or a bare address; undefined when there is no address.
 */
function toAddress(value: unknown, max: number): EmailAddress | undefined {
  const line = (v: unknown) => oneLine(v, max);
  if (isRecord(value)) {
    const address = line(firstOf(value, ["address", "email", "emailAddress"]));
    if (!address) return undefined;
    const name = line(own(value, "name"));
    return { name: name && name !== address ? name : null, address };
  }
  if (typeof value !== "string") return undefined;
  const named = NAMED.exec(value);
  if (named) {
    const address = line(named[3]);
    const name = line((named[1] ?? named[2] ?? "").replace(/\\(.)/g, "$1"));
    return address ? { name: name ?? null, address } : undefined;
  }
  const address = line(value);
  return address ? { name: null, address } : undefined;
}

/** A list (or one value) of addresses; entries without an address are dropped. */
function toAddresses(value: unknown, limits: Limits): EmailAddress[] | undefined {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const out: EmailAddress[] = [];
  for (const item of list) {
    if (out.length >= limits.addresses) break;
    const address = toAddress(item, limits.line);
    if (address) out.push(address);
  }
  return out.length > 0 ? out : undefined;
}
