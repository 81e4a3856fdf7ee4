/**
 * Slack mrkdwn escaping and cutting. Slack treats `&`, `<` and `>` as control characters: `<!channel>`
 * pings a channel and `<https://x|text>` hides a link behind text, so values that come from an email
 * must have them escaped (https://api.slack.com/reference/surfaces/formatting#escaping). Slack decodes
 * exactly these three entities, in mrkdwn and plain_text alike.
 */
import { cutText, type SafeEnd } from "../shared/text-cut.ts";

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/** Escapes `&`, `<`, `>` for Slack. Non-strings become text; null and undefined become "". */
export function escapeMrkdwn(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? value : String(value);
  return text.replace(/[&<>]/g, (ch) => ENTITIES[ch] ?? ch);
}

const ENTITY_AT = /^&(?:amp|lt|gt);/;
/** The longest entity Slack decodes (`&amp;`), minus one: an `&` further back cannot straddle the cut. */
const ENTITY_REACH = 4;

/** Never end inside `&amp;`, `&lt;` or `&gt;`: a half entity shows as literal `&am…`. */
export const entitySafeEnd: SafeEnd = (text, end) => {
  const amp = text.lastIndexOf("&", end - 1);
  if (amp < 0 || end - amp > ENTITY_REACH) return end;
  const entity = ENTITY_AT.exec(text.slice(amp, amp + 5));
  return entity && amp + entity[0].length > end ? amp : end;
};

/**
 * Never end inside a `<…>` control sequence (a link, a mention, a date) that closes after the cut:
 * half of one renders as raw markup. Only used on whole messages, where `<` is markup, not text.
 */
export const tokenSafeEnd: SafeEnd = (text, end) => {
  const open = text.lastIndexOf("<", end - 1);
  if (open <= 0 || text.lastIndexOf(">", end - 1) > open) return end;
  return text.indexOf(">", open) >= 0 ? open : end;
};

const mrkdwnSafeEnd: SafeEnd = (text, end) => tokenSafeEnd(text, entitySafeEnd(text, end));

/** Cuts Slack text to `max` characters without breaking an entity, a `<…>` token or a surrogate pair. */
export function cutMrkdwn(text: string, max: number): string {
  return cutText(text, max, mrkdwnSafeEnd);
}
