/**
 * The helpers a Hookgate template may call, besides Handlebars' `if`, `unless`, `each`, `with`
 * and `lookup` (`log` is removed: templates must not write to the server's log). Kept small on
 * purpose; each is pure, reads only own properties, and never throws on odd payload data (only on
 * wrong template arguments, which are the template author's bug).
 *
 * | helper | example | result |
 * |---|---|---|
 * | `json value` | `"to": {{json data.to}}` | the value as JSON (objects, arrays, numbers, `null`) |
 * | `escapeMrkdwn value` | `{{escapeMrkdwn data.subject}}` | `&`, `<`, `>` escaped for Slack mrkdwn |
 * | `truncate value n` | `{{truncate data.text.plain 200}}` | at most n characters, "…" when cut |
 * | `default value fallback` | `{{default data.subject "(no subject)"}}` | fallback when value is null, missing or "" |
 * | `eq a b` | `{{#if (eq type "messageNew")}}` | true when a === b |
 * | `upper value`, `lower value` | `{{upper type}}` | case-changed text |
 * | `join list [sep] [key=name]` | `{{join data.to ", " key="address"}}` | list items joined; `{name, address}` items as "Name <address>" |
 * | `date value [format]` | `{{date occurredAt "datetime"}}` | iso (default), date, time, datetime, unix, unixMs; "" when not a time |
 *
 * In `json`, `slack` and `discord` bodies every `{{…}}` is escaped as JSON string content, so
 * `"subject": "{{data.subject}}"` stays valid JSON; use `{{json x}}` (no quotes) for non-string
 * values. In `text` bodies `{{…}}` writes the value as is. `{{{…}}}` behaves exactly like `{{…}}`.
 * Objects and arrays print as JSON; null and missing values print as nothing.
 */

import { isRecord, own } from "../shared/json-value.ts";
import { cutText } from "../shared/text-cut.ts";
import { parseTime } from "../shared/time.ts";
import { entitySafeEnd, escapeMrkdwn } from "./mrkdwn.ts";
import { spend } from "./render-budget.ts";

/** Output that is already in the body's format (JSON text from `json`) and must not be escaped again. */
export class RawOutput {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  toString(): string {
    return this.text;
  }
}

/** How a value prints: strings as is, numbers and booleans as text, objects as JSON, nothing for null. */
export function toText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  if (value instanceof RawOutput) return value.text;
  if (typeof value === "function" || typeof value === "symbol") return "";
  return toJson(value);
}

/**
 * JSON text for any value. U+2028/U+2029 are escaped too: valid in JSON but not in older
 * JavaScript string literals, and some receivers eval-parse.
 */
export function toJson(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  // Serialising is work in proportion to the text, even when a helper then drops it (truncate).
  spend(json?.length ?? 1);
  return (json ?? "null").replace(/[\u2028\u2029]/g, (ch) => (ch === "\u2028" ? "\\u2028" : "\\u2029"));
}

/** A helper gets its positional arguments and its `key=value` hash. */
export type HelperFn = (args: unknown[], hash: Record<string, unknown>) => unknown;

const MAX_TRUNCATE = 1_000_000;
const DATE_FORMATS = ["iso", "date", "time", "datetime", "unix", "unixMs"] as const;

export const HELPERS: Readonly<Record<string, HelperFn>> = {
  json: ([value]) => new RawOutput(toJson(value)),

  escapeMrkdwn: ([value]) => escapeMrkdwn(toText(value)),

  truncate: ([value, max]) => {
    if (typeof max !== "number" || !Number.isInteger(max) || max < 1 || max > MAX_TRUNCATE) {
      throw new TypeError(`truncate needs a length from 1 to ${MAX_TRUNCATE}, got ${toJson(max)}`);
    }
    // Entity-aware, so truncating escaped Slack text never leaves half of "&amp;".
    return cutText(toText(value), max, entitySafeEnd);
  },

  default: ([value, fallback]) => (value === null || value === undefined || value === "" ? fallback : value),

  eq: ([a, b]) => a === b,

  upper: ([value]) => toText(value).toUpperCase(),

  lower: ([value]) => toText(value).toLowerCase(),

  join: ([list, separator], hash) => {
    if (!Array.isArray(list)) return toText(list);
    const key = hash.key;
    if (key !== undefined && typeof key !== "string") throw new TypeError("join: key= must be a string");
    const sep = separator === undefined ? ", " : toText(separator);
    return list
      .map((item) => (key !== undefined && isRecord(item) ? own(item, key) : item))
      .map((item) =>
        isRecord(item) && typeof own(item, "address") === "string" ? formatAddress(item) : toText(item),
      )
      .join(sep);
  },

  date: ([value, format]) => {
    const name = format === undefined ? "iso" : format;
    if (typeof name !== "string" || !(DATE_FORMATS as readonly string[]).includes(name)) {
      throw new TypeError(`date format must be one of ${DATE_FORMATS.join(", ")}, got ${toJson(format)}`);
    }
    const date = parseTime(value);
    if (!date) return "";
    const iso = date.toISOString();
    switch (name) {
      case "date":
        return iso.slice(0, 10);
      case "time":
        return iso.slice(11, 19);
      case "datetime":
        return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
      case "unix":
        return Math.floor(date.getTime() / 1000);
      case "unixMs":
        return date.getTime();
      default:
        return iso;
    }
  },
};

function formatAddress(item: Record<string, unknown>): string {
  const address = toText(own(item, "address"));
  const name = toText(own(item, "name")).trim();
  return name && name !== address ? `${name} <${address}>` : address;
}

/** Handlebars' own block helpers that stay available. */
export const BUILTIN_HELPERS = ["if", "unless", "each", "with", "lookup"] as const;
