/**
 * Neutralising email text for Discord. `allowed_mentions: {parse: []}` already stops pings; these
 * are the second line of defence for preset text: a zero-width space after `@` in `@everyone` and
 * `@here`, and backslash escapes so a subject cannot become a masked link (`[click](https://evil)`),
 * a mention (`<@123>`), a spoiler or a code block in markdown-rendered embed fields.
 */
import { cutText, type SafeEnd } from "../shared/text-cut.ts";

const ZERO_WIDTH_SPACE = "\u200b";

/** `@everyone` / `@here` → `@\u200beveryone` / `@\u200bhere`: shown the same, never a mention. */
export function neutralizeMentions(text: string): string {
  return text.replace(/@(everyone|here)/gi, `@${ZERO_WIDTH_SPACE}$1`);
}

/** Backslash-escapes Discord markdown control characters, for embed descriptions and field values. */
export function escapeDiscordMarkdown(text: string): string {
  return text.replace(/[\\*_~`|<>[\]()#]/g, "\\$&");
}

/** Preset text for a markdown-rendered place: mentions neutralised, markdown escaped. */
export function discordSafe(text: string): string {
  return escapeDiscordMarkdown(neutralizeMentions(text));
}

/** Never end on a lone backslash: it would escape the ellipsis and eat the character before it. */
const escapeSafeEnd: SafeEnd = (text, end) => {
  let slashes = 0;
  while (end - slashes - 1 >= 0 && text.charCodeAt(end - slashes - 1) === 0x5c) slashes++;
  return slashes % 2 === 1 ? end - 1 : end;
};

/** Cuts Discord text to `max` characters without splitting an escape or a surrogate pair. */
export function cutDiscord(text: string, max: number): string {
  return cutText(text, max, escapeSafeEnd);
}
