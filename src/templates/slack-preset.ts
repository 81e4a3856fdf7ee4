/**
 * The built-in Slack message for any email event: a header with the subject, fields for sender,
 * recipients, account and event type, a short excerpt of the text, and a context line with the
 * time. Every email value is escaped for mrkdwn here; the result then goes through
 * fitSlackMessage like any other message.
 */
import type { EmailSummary, EventKind } from "./email-summary.ts";
import { cutMrkdwn, escapeMrkdwn } from "./mrkdwn.ts";
import { SLACK_LIMITS } from "./slack-limits.ts";
import { TruncationLog } from "./truncation-log.ts";
import type { Truncation } from "./types.ts";

/** The excerpt is a preview, not the mail: longer text is cut (and reported). */
export const PRESET_EXCERPT_CHARS = 600;
/** Recipients listed by name before "+N more". */
const MAX_LISTED_RECIPIENTS = 5;

const EMOJI: Record<EventKind, string> = {
  failure: ":rotating_light:",
  success: ":white_check_mark:",
  incoming: ":incoming_envelope:",
  other: ":email:",
};

type TextObject = { type: "mrkdwn" | "plain_text"; text: string; emoji?: boolean };
type Block =
  | { type: "header"; text: TextObject }
  | { type: "section"; text?: TextObject; fields?: TextObject[] }
  | { type: "context"; elements: TextObject[] };
export type SlackPresetMessage = {
  text: string;
  blocks: Block[];
};

export function buildSlackPreset(summary: EmailSummary): {
  message: SlackPresetMessage;
  truncations: Truncation[];
} {
  const log = new TruncationLog();
  const blocks: Block[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: `${EMOJI[summary.kind]} ${escapeMrkdwn(summary.title)}`,
        emoji: true,
      },
    },
  ];
  const fields = presetFields(summary).map(
    (field): TextObject => ({
      type: "mrkdwn",
      text: `*${field.label}*\n${escapeMrkdwn(field.value)}`,
    }),
  );
  if (fields.length > 0) blocks.push({ type: "section", fields });
  if (summary.text) {
    const path = `blocks[${blocks.length}].text.text`;
    // Escape, then cut entity-safely: the limit and lengths are what Slack receives.
    const escaped = escapeMrkdwn(summary.text);
    const excerpt = log.cut(path, PRESET_EXCERPT_CHARS, escaped, cutMrkdwn(escaped, PRESET_EXCERPT_CHARS));
    blocks.push({ type: "section", text: { type: "mrkdwn", text: excerpt } });
  }
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: contextLine(summary) }] });
  return { message: { text: fallbackText(summary, log), blocks }, truncations: log.list() };
}

/** Labels are ours (bold, unescaped); values are email data and get escaped by the caller. */
export function presetFields(summary: EmailSummary): Array<{ label: string; value: string }> {
  const fields: Array<{ label: string; value: string }> = [];
  if (summary.from) fields.push({ label: "From", value: summary.from });
  if (summary.to.length > 0) fields.push({ label: "To", value: listRecipients(summary.to) });
  if (summary.account) fields.push({ label: "Account", value: summary.account });
  if (summary.eventType) fields.push({ label: "Event", value: summary.eventType });
  if (summary.status) fields.push({ label: "Status", value: summary.status });
  if (summary.reason) fields.push({ label: "Reason", value: summary.reason });
  if (summary.messageId) fields.push({ label: "Message ID", value: summary.messageId });
  // Details are extras: they fill the section's ten field slots and no more.
  for (const detail of summary.details) if (fields.length < SLACK_LIMITS.sectionFields) fields.push(detail);
  return fields;
}

export function listRecipients(to: string[]): string {
  const shown = to.slice(0, MAX_LISTED_RECIPIENTS).join(", ");
  const more = to.length - MAX_LISTED_RECIPIENTS;
  return more > 0 ? `${shown} (+${more} more)` : shown;
}

/** `<!date^…|…>` renders in each reader's time zone; the part after `|` is the fallback. */
function contextLine(summary: EmailSummary): string {
  const parts: string[] = [];
  if (summary.occurredAt) {
    const unix = Math.floor(Date.parse(summary.occurredAt) / 1000);
    parts.push(`<!date^${unix}^{date_short_pretty} {time_secs}|${summary.occurredAt}>`);
  }
  if (summary.source) parts.push(escapeMrkdwn(summary.source));
  if (summary.eventId) parts.push(escapeMrkdwn(summary.eventId));
  return parts.length > 0 ? parts.join(" · ") : "Hookgate";
}

/** The top-level text is a notification line, not a copy of the mail (Slack allows 40,000). */
export const PRESET_FALLBACK_CHARS = 3000;

/** What notifications and screen readers show: "messageNew: Subject — from Ada <ada@…>". */
function fallbackText(summary: EmailSummary, log: TruncationLog): string {
  const label = summary.eventType ?? "Email event";
  const about = summary.subject ? `${label}: ${summary.subject}` : label;
  const from = summary.from ? ` — from ${summary.from}` : "";
  const full = escapeMrkdwn(`${about}${from}`);
  return log.cut("text", PRESET_FALLBACK_CHARS, full, cutMrkdwn(full, PRESET_FALLBACK_CHARS));
}
