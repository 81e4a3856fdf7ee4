/**
 * The built-in Discord message for any email event: one embed with title, excerpt, fields,
 * footer and timestamp, coloured by what happened. Email values have `@everyone`/`@here`
 * neutralised everywhere and markdown escaped where Discord renders it; the result then goes
 * through fitDiscordMessage like any other message, which forces `allowed_mentions`.
 */

import { noMentions } from "./discord-limits.ts";
import { cutDiscord, discordSafe, neutralizeMentions } from "./discord-markdown.ts";
import type { EmailSummary, EventKind } from "./email-summary.ts";
import { PRESET_EXCERPT_CHARS, presetFields } from "./slack-preset.ts";
import { TruncationLog } from "./truncation-log.ts";
import type { Truncation } from "./types.ts";

/** Red for trouble, green for delivered/sent, blue for new mail, grey for the rest. */
export const DISCORD_COLORS: Record<EventKind, number> = {
  failure: 0xed4245,
  success: 0x57f287,
  incoming: 0x3498db,
  other: 0x95a5a6,
};

/** Short values sit side by side; long ones (recipient lists, reasons) get a full row. */
const INLINE_MAX_CHARS = 40;

export type DiscordPresetMessage = {
  embeds: Array<{
    title: string;
    description?: string;
    color: number;
    fields: Array<{ name: string; value: string; inline: boolean }>;
    footer: { text: string };
    timestamp?: string;
  }>;
  allowed_mentions: { parse: string[] };
};

export function buildDiscordPreset(summary: EmailSummary): {
  message: DiscordPresetMessage;
  truncations: Truncation[];
} {
  const log = new TruncationLog();
  const fields = presetFields(summary).map((field) => ({
    name: field.label,
    value: discordSafe(field.value),
    inline: field.value.length <= INLINE_MAX_CHARS,
  }));
  const embed: DiscordPresetMessage["embeds"][number] = {
    // Titles do not render links or mentions, and escapes would show: neutralise only.
    title: neutralizeMentions(summary.title),
    color: DISCORD_COLORS[summary.kind],
    fields,
    footer: {
      text: neutralizeMentions(["Hookgate", summary.source, summary.eventId].filter(Boolean).join(" · ")),
    },
  };
  if (summary.text) {
    // Escape, then cut escape-safely: the limit and lengths are what Discord receives.
    const escaped = discordSafe(summary.text);
    const path = "embeds[0].description";
    embed.description = log.cut(
      path,
      PRESET_EXCERPT_CHARS,
      escaped,
      cutDiscord(escaped, PRESET_EXCERPT_CHARS),
    );
  }
  if (summary.occurredAt) embed.timestamp = summary.occurredAt;
  return { message: { embeds: [embed], allowed_mentions: noMentions() }, truncations: log.list() };
}
