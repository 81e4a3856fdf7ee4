/** Layout decisions of the Slack and Discord previews, kept apart from the DOM so node can test them. */

export type ChatKind = "slack" | "discord";

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Which client the body is for: the route's template kind says so; without one, a body shaped like
 * a Slack message (`blocks`) or a Discord one (`embeds`) is previewed as such.
 */
export function chatKindOf(body: unknown, templateKind: string | null, targetUrl = ""): ChatKind | null {
  if (templateKind === "slack" || templateKind === "discord") return templateKind;
  if (!isObject(body)) return null;
  if (Array.isArray(body.blocks) || /hooks\.slack\.com/i.test(targetUrl)) return "slack";
  if (Array.isArray(body.embeds) || /discord(app)?\.com\/api\/webhooks/i.test(targetUrl)) return "discord";
  return null;
}

/** A Discord colour integer as CSS; absent or out of range gives Discord's neutral bar. */
export function discordColor(value: unknown): string {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffffff)
    return "#1e1f22";
  return `#${value.toString(16).padStart(6, "0")}`;
}

const SLACK_NAMED_COLORS: Record<string, string> = { good: "#2eb67d", warning: "#daa038", danger: "#e01e5a" };

/** A Slack attachment colour: a name or hex, with or without `#`; anything else gives Slack's grey. */
export function slackColor(value: unknown): string {
  if (typeof value !== "string") return "#dddddd";
  const named = SLACK_NAMED_COLORS[value];
  if (named) return named;
  const hex = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(value);
  return hex ? `#${hex[1]}` : "#dddddd";
}

export interface EmbedField {
  name: string;
  value: string;
  inline: boolean;
}

/**
 * Discord's field grid: consecutive inline fields share a row, three to a row (two when the embed
 * has a thumbnail beside them); a field that is not inline takes a row of its own.
 */
export function fieldRows(fields: readonly EmbedField[], hasThumbnail = false): EmbedField[][] {
  const perRow = hasThumbnail ? 2 : 3;
  const rows: EmbedField[][] = [];
  let row: EmbedField[] = [];
  for (const field of fields) {
    if (!field.inline) {
      if (row.length) rows.push(row);
      rows.push([field]);
      row = [];
      continue;
    }
    row.push(field);
    if (row.length === perRow) {
      rows.push(row);
      row = [];
    }
  }
  if (row.length) rows.push(row);
  return rows;
}

/** Embed fields as Discord reads them: name and value as text, `inline` only when true. */
export function embedFields(value: unknown): EmbedField[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).map((f) => ({
    name: typeof f.name === "string" ? f.name : "",
    value: typeof f.value === "string" ? f.value : "",
    inline: f.inline === true,
  }));
}

/** A timestamp the way the clients print it beside a message: "Today at 14:05" or a date. */
export function chatTime(iso: unknown, now = new Date()): string {
  const at = typeof iso === "string" || typeof iso === "number" ? new Date(iso) : now;
  if (Number.isNaN(at.getTime())) return "";
  const time = `${String(at.getHours()).padStart(2, "0")}:${String(at.getMinutes()).padStart(2, "0")}`;
  return at.toDateString() === now.toDateString()
    ? `Today at ${time}`
    : `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, "0")}-${String(at.getDate()).padStart(2, "0")} ${time}`;
}
