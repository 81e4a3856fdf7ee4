/**
 * Discord webhook message limits: checking a message against them and fitting a message into them.
 * Fitting only shortens; it never escapes a message its author built (see slack-limits.ts).
 * Limits: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
 */

import { isRecord, type JsonRecord, own } from "../shared/json-value.ts";
import { cutDiscord } from "./discord-markdown.ts";
import { TruncationLog } from "./truncation-log.ts";
import type { Truncation } from "./types.ts";

export const DISCORD_LIMITS = {
  content: 2000,
  /** Webhook `username` override. */
  username: 80,
  embeds: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  /** title + description + field names and values + footer text + author name, over all embeds. */
  embedTotal: 6000,
} as const;

/** The only `allowed_mentions` Hookgate sends unless a route opts in with `allowMentions: true`. */
export function noMentions(): { parse: string[] } {
  return { parse: [] };
}

/** True when a payload already is a Discord message: a string `content` and/or an `embeds` array. */
export function isDiscordMessage(payload: unknown): payload is JsonRecord {
  return (
    isRecord(payload) &&
    (typeof own(payload, "content") === "string" || Array.isArray(own(payload, "embeds")))
  );
}

export interface FitDiscordOptions {
  /** Keep the message's own `allowed_mentions` instead of forcing `{"parse": []}`. */
  allowMentions?: boolean;
}

/**
 * Fits a message into DISCORD_LIMITS in place (pass a copy): cuts texts with "…", drops embeds and
 * fields past their caps, then trims descriptions, field values, fields, footers and finally
 * trailing embeds until all embed text fits 6000 characters. Forces `allowed_mentions`.
 */
export function fitDiscordMessage(message: JsonRecord, options: FitDiscordOptions = {}): Truncation[] {
  const log = new TruncationLog();
  fitString(message, "content", "content", DISCORD_LIMITS.content, log);
  fitString(message, "username", "username", DISCORD_LIMITS.username, log);
  const embeds = own(message, "embeds");
  if (Array.isArray(embeds)) {
    if (embeds.length > DISCORD_LIMITS.embeds) {
      log.record("embeds", DISCORD_LIMITS.embeds, embeds.length);
      embeds.length = DISCORD_LIMITS.embeds;
    }
    embeds.forEach((embed, i) => {
      if (isRecord(embed)) fitEmbed(embed, `embeds[${i}]`, log);
    });
    fitEmbedTotal(embeds, log);
  }
  if (!options.allowMentions) message.allowed_mentions = noMentions();
  return log.list();
}

function fitString(record: JsonRecord, key: string, path: string, max: number, log: TruncationLog): void {
  const value = own(record, key);
  if (typeof value === "string") record[key] = log.cut(path, max, value, cutDiscord(value, max));
}

function fitEmbed(embed: JsonRecord, path: string, log: TruncationLog): void {
  fitString(embed, "title", `${path}.title`, DISCORD_LIMITS.title, log);
  fitString(embed, "description", `${path}.description`, DISCORD_LIMITS.description, log);
  const footer = own(embed, "footer");
  if (isRecord(footer)) fitString(footer, "text", `${path}.footer.text`, DISCORD_LIMITS.footerText, log);
  const author = own(embed, "author");
  if (isRecord(author)) fitString(author, "name", `${path}.author.name`, DISCORD_LIMITS.authorName, log);
  const fields = own(embed, "fields");
  if (!Array.isArray(fields)) return;
  if (fields.length > DISCORD_LIMITS.fields) {
    log.record(`${path}.fields`, DISCORD_LIMITS.fields, fields.length);
    fields.length = DISCORD_LIMITS.fields;
  }
  fields.forEach((field, j) => {
    if (!isRecord(field)) return;
    fitString(field, "name", `${path}.fields[${j}].name`, DISCORD_LIMITS.fieldName, log);
    fitString(field, "value", `${path}.fields[${j}].value`, DISCORD_LIMITS.fieldValue, log);
  });
}

/** Characters Discord counts towards the 6000 total in one embed. */
export function embedTextLength(embed: unknown): number {
  if (!isRecord(embed)) return 0;
  let total = strLen(own(embed, "title")) + strLen(own(embed, "description"));
  const footer = own(embed, "footer");
  if (isRecord(footer)) total += strLen(own(footer, "text"));
  const author = own(embed, "author");
  if (isRecord(author)) total += strLen(own(author, "name"));
  const fields = own(embed, "fields");
  for (const field of Array.isArray(fields) ? fields : []) {
    if (isRecord(field)) total += strLen(own(field, "name")) + strLen(own(field, "value"));
  }
  return total;
}

function strLen(value: unknown): number {
  return typeof value === "string" ? value.length : 0;
}

/**
 * Shrinks the least important text first until the embeds fit the shared 6000 budget:
 * descriptions, then field values (kept at least "…" since Discord needs them non-empty), then
 * whole fields, then footers, then trailing embeds. The first embed's title and author always fit.
 */
function fitEmbedTotal(embeds: unknown[], log: TruncationLog): void {
  let excess =
    embeds.reduce<number>((sum, embed) => sum + embedTextLength(embed), 0) - DISCORD_LIMITS.embedTotal;
  const last = embeds.length - 1;
  // 1. Descriptions, last embed first.
  for (let i = last; i >= 0 && excess > 0; i--) {
    const embed = embeds[i];
    if (isRecord(embed)) excess -= shrink(embed, "description", `embeds[${i}].description`, excess, 0, log);
  }
  // 2. Field values, last field of the last embed first.
  for (let i = last; i >= 0 && excess > 0; i--) {
    const fields = fieldsOf(embeds[i]);
    for (let j = fields.length - 1; j >= 0 && excess > 0; j--) {
      const field = fields[j];
      if (isRecord(field))
        excess -= shrink(field, "value", `embeds[${i}].fields[${j}].value`, excess, 1, log);
    }
  }
  // 3. Whole fields, from the end.
  for (let i = last; i >= 0 && excess > 0; i--) {
    const fields = fieldsOf(embeds[i]);
    const before = fields.length;
    while (fields.length > 0 && excess > 0) {
      excess -= embedTextLengthOfField(fields.pop());
    }
    if (fields.length < before) log.record(`embeds[${i}].fields`, fields.length, before);
  }
  // 4. Footers.
  for (let i = last; i >= 0 && excess > 0; i--) {
    const embed = embeds[i];
    const footer = isRecord(embed) ? own(embed, "footer") : undefined;
    if (!isRecord(embed) || !isRecord(footer)) continue;
    excess -= shrink(footer, "text", `embeds[${i}].footer.text`, excess, 0, log);
    // A footer without text is invalid; one that lost all of it goes.
    if (own(footer, "text") === undefined) delete embed.footer;
  }
  // 5. Trailing embeds; one embed's title (256) and author (256) can never exceed the total.
  const before = embeds.length;
  while (embeds.length > 1 && excess > 0) excess -= embedTextLength(embeds.pop());
  if (embeds.length < before) log.record("embeds", embeds.length, before);
}

function fieldsOf(embed: unknown): unknown[] {
  const fields = isRecord(embed) ? own(embed, "fields") : undefined;
  return Array.isArray(fields) ? fields : [];
}

function embedTextLengthOfField(field: unknown): number {
  return isRecord(field) ? strLen(own(field, "name")) + strLen(own(field, "value")) : 0;
}

/** Cuts `record[key]` by up to `excess` characters (keeping at least `keep`); returns how many it removed. */
function shrink(
  record: JsonRecord,
  key: string,
  path: string,
  excess: number,
  keep: number,
  log: TruncationLog,
) {
  const value = own(record, key);
  if (typeof value !== "string" || value.length <= keep) return 0;
  const target = Math.max(keep, value.length - excess);
  const cut = target === 0 ? "" : cutDiscord(value, target);
  log.record(path, target, value.length);
  if (cut === "") delete record[key];
  else record[key] = cut;
  return value.length - cut.length;
}

export interface CheckDiscordOptions {
  /** The route sets `allowMentions: true`, so any `allowed_mentions` is acceptable. */
  allowMentions?: boolean;
}

/**
 * Lists every way `message` breaks DISCORD_LIMITS, is empty, or (unless `allowMentions`) could
 * mention someone; empty when valid.
 */
export function checkDiscordMessage(message: unknown, options: CheckDiscordOptions = {}): string[] {
  if (!isRecord(message)) return ["message: must be a JSON object"];
  const problems: string[] = [];
  const content = own(message, "content");
  if (content !== undefined && typeof content !== "string") problems.push("content: must be a string");
  if (typeof content === "string") tooLong(problems, "content", content, DISCORD_LIMITS.content);
  const username = own(message, "username");
  if (typeof username === "string") tooLong(problems, "username", username, DISCORD_LIMITS.username);
  const embeds = own(message, "embeds");
  if (embeds !== undefined && !Array.isArray(embeds)) problems.push("embeds: must be an array");
  const embedList = Array.isArray(embeds) ? embeds : [];
  if (embedList.length > DISCORD_LIMITS.embeds) {
    problems.push(`embeds: ${embedList.length} embeds, at most ${DISCORD_LIMITS.embeds}`);
  }
  embedList.forEach((embed, i) => {
    checkEmbed(problems, embed, `embeds[${i}]`);
  });
  const total = embedList.reduce<number>((sum, embed) => sum + embedTextLength(embed), 0);
  if (total > DISCORD_LIMITS.embedTotal) {
    problems.push(`embeds: ${total} characters of embed text in total, at most ${DISCORD_LIMITS.embedTotal}`);
  }
  const hasOther = ["components", "poll", "attachments", "sticker_ids"].some(
    (key) => own(message, key) !== undefined,
  );
  if ((typeof content !== "string" || content.trim() === "") && embedList.length === 0 && !hasOther) {
    problems.push("message: needs non-empty content or at least one embed");
  }
  if (!options.allowMentions) checkNoMentions(problems, own(message, "allowed_mentions"));
  return problems;
}

function checkEmbed(problems: string[], embed: unknown, path: string): void {
  if (!isRecord(embed)) {
    problems.push(`${path}: must be an object`);
    return;
  }
  optionalText(problems, own(embed, "title"), `${path}.title`, DISCORD_LIMITS.title);
  optionalText(problems, own(embed, "description"), `${path}.description`, DISCORD_LIMITS.description);
  const footer = own(embed, "footer");
  if (footer !== undefined) {
    if (!isRecord(footer)) problems.push(`${path}.footer: must be an object`);
    else requiredText(problems, own(footer, "text"), `${path}.footer.text`, DISCORD_LIMITS.footerText);
  }
  const author = own(embed, "author");
  if (author !== undefined) {
    if (!isRecord(author)) problems.push(`${path}.author: must be an object`);
    else requiredText(problems, own(author, "name"), `${path}.author.name`, DISCORD_LIMITS.authorName);
  }
  const fields = own(embed, "fields");
  if (fields === undefined) return;
  if (!Array.isArray(fields)) {
    problems.push(`${path}.fields: must be an array`);
    return;
  }
  if (fields.length > DISCORD_LIMITS.fields) {
    problems.push(`${path}.fields: ${fields.length} fields, at most ${DISCORD_LIMITS.fields}`);
  }
  fields.forEach((field, j) => {
    if (!isRecord(field)) {
      problems.push(`${path}.fields[${j}]: must be an object`);
      return;
    }
    requiredText(problems, own(field, "name"), `${path}.fields[${j}].name`, DISCORD_LIMITS.fieldName);
    requiredText(problems, own(field, "value"), `${path}.fields[${j}].value`, DISCORD_LIMITS.fieldValue);
  });
}

function optionalText(problems: string[], value: unknown, path: string, max: number): void {
  if (value === undefined) return;
  if (typeof value !== "string") problems.push(`${path}: must be a string`);
  else tooLong(problems, path, value, max);
}

function requiredText(problems: string[], value: unknown, path: string, max: number): void {
  if (typeof value !== "string" || value.trim() === "") problems.push(`${path}: must be a non-empty string`);
  else tooLong(problems, path, value, max);
}

function checkNoMentions(problems: string[], allowed: unknown): void {
  const parse = isRecord(allowed) ? own(allowed, "parse") : undefined;
  const lists = isRecord(allowed) ? [own(allowed, "users"), own(allowed, "roles")] : [];
  const listsEmpty = lists.every((list) => list === undefined || (Array.isArray(list) && list.length === 0));
  const replied = isRecord(allowed) ? own(allowed, "replied_user") : undefined;
  if (!Array.isArray(parse) || parse.length > 0 || !listsEmpty || replied === true) {
    problems.push('allowed_mentions: must be {"parse": []} unless the route sets allowMentions');
  }
}

function tooLong(problems: string[], path: string, text: string, max: number): void {
  if (text.length > max) problems.push(`${path}: ${text.length} characters, at most ${max}`);
}
