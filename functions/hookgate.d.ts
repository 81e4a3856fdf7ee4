/**
 * What a Hookgate route function sees: the event it is called with, the `hookgate` standard
 * library and a captured `console`. Nothing else exists in the sandbox (no require, import,
 * process, timers or network); every builtin (JSON, Math, Date, RegExp, Intl, ...) is frozen.
 *
 * Editors pick this file up for the JavaScript in functions/ through functions/jsconfig.json.
 * Type the event of a module function with JSDoc:
 *
 *   /** @param {HookgateEvent} event *\/
 *   export default (event) => hookgate.domainOf(event.data.from) === "example.com";
 *
 * This file is a global script declaration (no imports or exports) so that it needs nothing else.
 * Keep it in step with src/sandbox/isolate-stdlib.ts and src/events/event-schema.ts.
 */

/** An email address as the helpers return it. */
interface HookgateAddress {
  /** The display name, or null when there is none. */
  name: string | null;
  address: string;
}

interface HookgateParsedAddress extends HookgateAddress {
  /** The part before the last "@", as written. */
  local: string;
  /** The part after the last "@", lower-cased. */
  domain: string;
}

/**
 * The address shapes the email systems send: EmailEngine `{name, address}`, Stalwart/JMAP and
 * Mailtrap `{name, email}`, MailSlurp strings or `{emailAddress, name}`, mailparser and Mailpilot
 * `{value: [...], text}`, or an address-list string `"Ada <ada@x.com>, bob@y.org"`.
 */
type HookgateAddressInput =
  | string
  | { name?: string | null; address?: string; email?: string; emailAddress?: string }
  | { value?: HookgateAddressInput; text?: string }
  | HookgateAddressInput[]
  | null
  | undefined;

interface HookgateAttachment {
  id?: string;
  filename?: string;
  contentType?: string;
  size?: number;
  [key: string]: unknown;
}

/** `data` as the common email systems fill it; every field may be missing. */
interface HookgateEmailData {
  subject?: string;
  from?: HookgateAddressInput;
  to?: HookgateAddressInput;
  cc?: HookgateAddressInput;
  bcc?: HookgateAddressInput;
  replyTo?: HookgateAddressInput;
  sender?: HookgateAddressInput;
  messageId?: string;
  inReplyTo?: string;
  date?: string;
  text?: string | { plain?: string; html?: string; [key: string]: unknown };
  html?: string;
  headers?: Record<string, unknown>;
  attachments?: HookgateAttachment[];
  flags?: string[];
  labels?: string[];
  [key: string]: unknown;
}

/**
 * What happened to the message (`event.email.status`), the same set for every email system:
 * received (arrived in a mailbox), queued (taken into a server's queue), sent (handed to the
 * next server), delivered (accepted by the recipient's server), deferred (delayed, will be
 * retried), bounced (see `bounce`), failed (given up), rejected (refused before delivery),
 * complained (reported as spam), opened, clicked, unsubscribed, subscribed, suppressed (the
 * recipient put on a suppression list).
 */
type HookgateEmailStatus =
  | "received"
  | "queued"
  | "sent"
  | "delivered"
  | "deferred"
  | "bounced"
  | "failed"
  | "rejected"
  | "complained"
  | "opened"
  | "clicked"
  | "unsubscribed"
  | "subscribed"
  | "suppressed";

/**
 * `event.email`: the email in the event, read the same way whatever system sent it. Present on
 * every event from an EmailEngine, Stalwart, Mailtrap, MailSlurp or Mailpilot source, and on other
 * events when their data has email fields (`data.subject`, `data.from`, …). A field the sender
 * does not give is absent (never null, "" or []). Strings are one line of at most 500 characters
 * (a longer one ends in "…"), lists hold at most 50 addresses.
 */
interface HookgateEmailView {
  status?: HookgateEmailStatus;
  /** For "bounced": permanent (5.x.x, bad address) or temporary (4.x.x, mailbox full). */
  bounce?: "hard" | "soft";
  /** The one address a delivery status is about (absent when it is about several: see `to`). */
  recipient?: string;
  /** Why: a bounce's or failure's server answer, a complaint's feedback type, an error's message. */
  reason?: string;
  subject?: string;
  from?: HookgateAddress;
  to?: HookgateAddress[];
  cc?: HookgateAddress[];
  replyTo?: HookgateAddress[];
  /** The Message-ID header (Mailtrap: its own message id, all it gives). */
  messageId?: string;
  inReplyTo?: string;
  /** ISO 8601: the message's Date header. */
  date?: string;
  /** The start of the plain-text body (at most 500 characters), whitespace tidied. */
  text?: string;
  /** For "clicked": the link. */
  url?: string;
  /** The same as `event.account`. */
  account?: string;
  /** The folder the message (or a mailbox event) is about. */
  mailbox?: string;
  direction?: "inbound" | "outbound";
}

/** The event a filter or map is called with (a fresh JSON copy on every call). */
interface HookgateEvent<Data = HookgateEmailData> {
  /** The event id: the client's, or one Hookgate generated (`evt_…`). */
  id: string;
  /** e.g. "messageNew", "messageBounce". */
  type: string;
  /**
   * Where the event came from: the id of the source it was ingested through (`src_…`), what the
   * client sent to POST /v1/events (e.g. "emailengine"), or null.
   */
  source: string | null;
  /** The kind of that source ("emailengine", "stalwart", "mailtrap", "mailslurp", "mailpilot",
   * "standard-webhooks", "generic") when the event came in through /v1/ingest. */
  sourceKind?: string | null;
  /** The mailbox or account the event is about, or null. */
  account: string | null;
  /** ISO 8601 time the event happened (as the sender said, else when received). */
  occurredAt: string;
  /** ISO 8601 time Hookgate received the event. */
  receivedAt: string;
  /**
   * The payload: what the client sent, or an ingested webhook's body as its system sent it (an
   * EmailEngine message's subject is `event.data.data.subject`: the webhook's own nesting).
   * `event.email` has the same fields whatever the sender.
   */
  data: Data;
  /** The email in the event, one shape for every system: `event.email.subject`, `.status`, … */
  email?: HookgateEmailView;
}

interface HookgateUrl {
  href: string;
  /** e.g. "https:" */
  protocol: string;
  username: string;
  password: string;
  /** hostname plus ":port" when the port is not the scheme's default */
  host: string;
  /** lower-cased; IPv6 in brackets */
  hostname: string;
  /** "" for the scheme's default port */
  port: string;
  pathname: string;
  /** "" or "?…" */
  search: string;
  /** "" or "#…" */
  hash: string;
  /** "https://host[:port]" for http(s)/ws(s)/ftp, else "null" */
  origin: string;
  /** The decoded query; a key given more than once maps to an array. */
  searchParams: Record<string, string | string[]>;
}

/** The pure helpers every function can use as the global `hookgate` (frozen). */
interface HookgateLibrary {
  /** "Ada <ada@x.com>", '"Lovelace, Ada" <ada@x.com>', "ada@x.com (Ada)", or an address object; null when no address. */
  parseAddress(input: HookgateAddressInput): HookgateParsedAddress | null;
  /** Any of the systems' from/to shapes as one list, in order; entries without an address are dropped. */
  addressList(value: HookgateAddressInput): HookgateAddress[];
  /** The lower-cased domain of an address (or "Name <address>"), or null. */
  domainOf(address: HookgateAddressInput): string | null;
  /** Readable text: tags, scripts, styles and comments removed, entities decoded, blocks as lines, list items as "- ". */
  htmlToText(html: string | null | undefined, options?: { maxLength?: number }): string;
  /** Escape &, < and > for Slack mrkdwn, so user text cannot ping `<!channel>` or forge links. */
  escapeMrkdwn(text: string | null | undefined): string;
  /** At most n characters; a cut string ends in "…" (never inside a surrogate pair). */
  truncate(text: string | null | undefined, n: number): string;
  /** A WHATWG-like breakdown of an absolute URL, or null when it is not one. (There is no global URL.) */
  parseUrl(url: string): HookgateUrl | null;
  /** Decode "a=1&b=x+y" (with or without "?"); repeated keys become arrays. */
  parseQuery(query: string): Record<string, string | string[]>;
}

declare var hookgate: HookgateLibrary;

/**
 * The captured console: lines go to the dry-run's `logs` (at most 50 lines of 1000 characters
 * per step), never to the gateway's own output. Merges with the standard Console where one exists.
 */
interface Console {
  log(...data: any[]): void;
  info(...data: any[]): void;
  warn(...data: any[]): void;
  error(...data: any[]): void;
  debug(...data: any[]): void;
  trace(...data: any[]): void;
  dir(...data: any[]): void;
  assert(condition?: boolean, ...data: any[]): void;
}

declare var console: Console;
