/**
 * Slack mrkdwn and Discord markdown, read into a small tree the previews draw. Pure (no DOM), so
 * it is unit-tested in node. An approximation of what the clients show, with the rules that matter
 * for what Hookgate sends: in Slack `&amp;`/`&lt;`/`&gt;` are literal characters (so an escaped
 * `&lt;!channel&gt;` stays text and an escaped `&gt;` never starts a quote), `<url|label>` is a
 * link and `<!here>` a mention; Discord has no entities and masked links `[label](url)`.
 */

export type Inline =
  | { kind: "text"; text: string }
  | { kind: "code"; text: string }
  | { kind: "bold" | "italic" | "strike" | "underline" | "spoiler"; children: Inline[] }
  | { kind: "link"; href: string; children: Inline[] }
  | { kind: "mention"; text: string }
  | { kind: "break" };

export type Block =
  | { kind: "paragraph"; children: Inline[] }
  | { kind: "quote"; children: Inline[] }
  | { kind: "heading"; level: number; children: Inline[] }
  | { kind: "pre"; text: string };

/** Only web links and mail links become anchors; `javascript:` and the like stay text. */
export function safeHref(url: string): string | null {
  return /^(https?:\/\/|mailto:)/i.test(url.trim()) ? url.trim() : null;
}

type Parse = (source: string) => Inline[];

interface Rule {
  /** Sticky (`y`) pattern tried at the current position. */
  re: RegExp;
  /** Emphasis only opens after a non-word character and closes before one (`a*b*c` is plain). */
  wordBoundary?: boolean;
  make(match: RegExpExecArray, parse: Parse): Inline;
}

const WORD = /[\p{L}\p{N}]/u;

function inlineParser(rules: readonly Rule[], decode: (s: string) => string): Parse {
  const parse: Parse = (source) => {
    const out: Inline[] = [];
    let text = "";
    const flush = () => {
      if (text) out.push({ kind: "text", text: decode(text) });
      text = "";
    };
    let i = 0;
    scan: while (i < source.length) {
      const ch = source[i] ?? "";
      if (ch === "\n") {
        flush();
        out.push({ kind: "break" });
        i++;
        continue;
      }
      for (const rule of rules) {
        if (rule.wordBoundary && i > 0 && WORD.test(source[i - 1] ?? "")) continue;
        rule.re.lastIndex = i;
        const m = rule.re.exec(source);
        if (!m) continue;
        const end = i + m[0].length;
        if (rule.wordBoundary && WORD.test(source[end] ?? "")) continue;
        flush();
        out.push(rule.make(m, parse));
        i = end;
        continue scan;
      }
      text += ch;
      i++;
    }
    flush();
    return out;
  };
  return parse;
}

const wrap =
  (kind: "bold" | "italic" | "strike" | "underline" | "spoiler") =>
  (m: RegExpExecArray, parse: Parse): Inline => ({ kind, children: parse(m[1] ?? "") });

// ---------------------------------------------------------------------------------------------
// Slack

export function decodeSlackEntities(s: string): string {
  return s.replace(/&(amp|lt|gt);/g, (_, name: string) => (name === "amp" ? "&" : name === "lt" ? "<" : ">"));
}

// Slack draws :shortcodes: as emoji; these are the presets' and the common ones. Others (and
// workspace emoji) stay as written.
const EMOJI: Record<string, string> = {
  incoming_envelope: "📨",
  email: "📧",
  "e-mail": "📧",
  envelope: "✉️",
  rotating_light: "🚨",
  white_check_mark: "✅",
  heavy_check_mark: "✔️",
  warning: "⚠️",
  x: "❌",
  no_entry: "⛔",
  exclamation: "❗",
  question: "❓",
  information_source: "ℹ️",
  bell: "🔔",
  mailbox: "📫",
  inbox_tray: "📥",
  outbox_tray: "📤",
  paperclip: "📎",
  page_facing_up: "📄",
  memo: "📝",
  link: "🔗",
  lock: "🔒",
  calendar: "📅",
  hourglass: "⌛",
  receipt: "🧾",
  moneybag: "💰",
  bust_in_silhouette: "👤",
  busts_in_silhouette: "👥",
  fire: "🔥",
  tada: "🎉",
  eyes: "👀",
  rocket: "🚀",
  "+1": "👍",
  thumbsup: "👍",
  "-1": "👎",
  thumbsdown: "👎",
  red_circle: "🔴",
  large_green_circle: "🟢",
  large_yellow_circle: "🟡",
};

export function slackEmoji(s: string): string {
  return s.replace(/:([a-z0-9_+-]+):/g, (code, name: string) => EMOJI[name] ?? code);
}

/** Text as Slack shows it: entities decoded, known :shortcodes: as emoji. */
export function slackText(s: string): string {
  return slackEmoji(decodeSlackEntities(s));
}

/** `<…>` in mrkdwn: a link, a user/channel mention, a special mention or a formatted date. */
function slackAngle(inner: string, parse: Parse): Inline {
  const bar = inner.indexOf("|");
  const target = bar >= 0 ? inner.slice(0, bar) : inner;
  const label = bar >= 0 ? inner.slice(bar + 1) : "";
  if (target.startsWith("@"))
    return { kind: "mention", text: `@${decodeSlackEntities(label || target.slice(1))}` };
  if (target.startsWith("#"))
    return { kind: "mention", text: `#${decodeSlackEntities(label || target.slice(1))}` };
  if (target.startsWith("!")) {
    const name = target.slice(1);
    if (/^(here|channel|everyone)$/.test(name)) return { kind: "mention", text: `@${name}` };
    if (name.startsWith("date^")) return { kind: "text", text: decodeSlackEntities(label || name) };
    return { kind: "mention", text: decodeSlackEntities(label || `@${name.split("^")[0] ?? name}`) };
  }
  const href = decodeSlackEntities(target);
  return { kind: "link", href, children: label ? parse(label) : [{ kind: "text", text: href }] };
}

const SLACK_RULES: readonly Rule[] = [
  { re: /`([^`\n]+)`/y, make: (m) => ({ kind: "code", text: decodeSlackEntities(m[1] ?? "") }) },
  { re: /<([^<>\n]+)>/y, make: (m, parse) => slackAngle(m[1] ?? "", parse) },
  { re: /\*([^*\s](?:[^*\n]*[^*\s])?)\*/y, wordBoundary: true, make: wrap("bold") },
  { re: /_([^_\s](?:[^_\n]*[^_\s])?)_/y, wordBoundary: true, make: wrap("italic") },
  { re: /~([^~\s](?:[^~\n]*[^~\s])?)~/y, wordBoundary: true, make: wrap("strike") },
];

const parseSlackInline = inlineParser(SLACK_RULES, slackText);

/** Slack mrkdwn text (section, context, field) as blocks: code fences, `>` quotes, paragraphs. */
export function parseMrkdwn(source: string): Block[] {
  return splitFences(source, decodeSlackEntities).flatMap((part) =>
    typeof part === "string"
      ? groupLines(part, (line) => /^>/.exec(line) && line.replace(/^> ?/, "")).map((g) =>
          g.quote
            ? { kind: "quote" as const, children: parseSlackInline(g.text) }
            : { kind: "paragraph" as const, children: parseSlackInline(g.text) },
        )
      : [part],
  );
}

/**
 * plain_text objects: no formatting or links, only line breaks, entities (Slack's escaping covers
 * every text it is sent) and, unless `emoji: false`, emoji.
 */
export function parsePlainText(source: string, emoji = true): Block[] {
  const children: Inline[] = [];
  source.split("\n").forEach((line, i) => {
    if (i > 0) children.push({ kind: "break" });
    if (line) children.push({ kind: "text", text: emoji ? slackText(line) : decodeSlackEntities(line) });
  });
  return [{ kind: "paragraph", children }];
}

// ---------------------------------------------------------------------------------------------
// Discord

const DISCORD_RULES: readonly Rule[] = [
  // A backslash makes the next markdown character literal: `\<` is "<", `\*` is "*".
  { re: /\\([^\sA-Za-z0-9])/y, make: (m) => ({ kind: "text", text: m[1] ?? "" }) },
  { re: /``([^`]+?)``/y, make: (m) => ({ kind: "code", text: m[1] ?? "" }) },
  { re: /`([^`\n]+)`/y, make: (m) => ({ kind: "code", text: m[1] ?? "" }) },
  {
    re: /\[([^\]\n]+)\]\(<?(https?:\/\/[^)\s>]+)>?\)/y,
    make: (m, parse) => ({ kind: "link", href: m[2] ?? "", children: parse(m[1] ?? "") }),
  },
  {
    re: /<?(https?:\/\/[^\s<>]*[^\s<>.,:;"')\]])>?/y,
    make: (m) => ({ kind: "link", href: m[1] ?? "", children: [{ kind: "text", text: m[1] ?? "" }] }),
  },
  { re: /<@!?(\d+)>/y, make: (m) => ({ kind: "mention", text: `@user ${m[1]}` }) },
  { re: /<@&(\d+)>/y, make: (m) => ({ kind: "mention", text: `@role ${m[1]}` }) },
  { re: /<#(\d+)>/y, make: (m) => ({ kind: "mention", text: `#channel ${m[1]}` }) },
  { re: /<a?:(\w+):\d+>/y, make: (m) => ({ kind: "text", text: `:${m[1]}:` }) },
  { re: /@(everyone|here)\b/y, make: (m) => ({ kind: "mention", text: `@${m[1]}` }) },
  { re: /\*\*([\s\S]+?)\*\*(?!\*)/y, make: wrap("bold") },
  { re: /__([\s\S]+?)__(?!_)/y, make: wrap("underline") },
  { re: /~~([\s\S]+?)~~/y, make: wrap("strike") },
  { re: /\|\|([\s\S]+?)\|\|/y, make: wrap("spoiler") },
  { re: /\*([^*\s](?:[^*]*?[^*\s])?)\*(?!\*)/y, make: wrap("italic") },
  { re: /_([^_\s](?:[^_]*?[^_\s])?)_/y, wordBoundary: true, make: wrap("italic") },
];

const parseDiscordInline = inlineParser(DISCORD_RULES, (s) => s);

/** Discord markdown (content, embed description, field values) as blocks. */
export function parseDiscordMarkdown(source: string): Block[] {
  // ">>> " quotes everything after it, to the end of the message.
  const rest = /(^|\n)>>> ([\s\S]*)$/.exec(source);
  const head = rest ? source.slice(0, rest.index) : source;
  const blocks = splitFences(head, (s) => s).flatMap((part) =>
    typeof part === "string" ? discordLines(part) : [part],
  );
  if (rest) blocks.push({ kind: "quote", children: parseDiscordInline(rest[2] ?? "") });
  return blocks;
}

function discordLines(text: string): Block[] {
  const out: Block[] = [];
  for (const g of groupLines(text, (line) => /^> /.exec(line) && line.slice(2))) {
    if (g.quote) {
      out.push({ kind: "quote", children: parseDiscordInline(g.text) });
      continue;
    }
    // Headings are whole lines; the lines between them stay paragraphs.
    let para: string[] = [];
    const flush = () => {
      if (para.length) out.push({ kind: "paragraph", children: parseDiscordInline(para.join("\n")) });
      para = [];
    };
    for (const line of g.text.split("\n")) {
      const heading = /^(#{1,3}) (.+)$/.exec(line);
      if (heading) {
        flush();
        out.push({
          kind: "heading",
          level: heading[1]?.length ?? 1,
          children: parseDiscordInline(heading[2] ?? ""),
        });
      } else para.push(line);
    }
    flush();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shared

/** Text and ``` code blocks in order; the newline right after an opening fence is not content. */
function splitFences(source: string, decode: (s: string) => string): Array<string | Block> {
  const out: Array<string | Block> = [];
  const fence = /```(?:[A-Za-z0-9_+-]*\n)?([\s\S]*?)```/g;
  let last = 0;
  for (let m = fence.exec(source); m; m = fence.exec(source)) {
    if (m.index > last) out.push(source.slice(last, m.index).replace(/\n$/, ""));
    out.push({ kind: "pre", text: decode(m[1] ?? "") });
    last = m.index + m[0].length;
  }
  if (last < source.length) out.push(source.slice(last).replace(/^\n/, ""));
  return out.filter((p) => p !== "");
}

/** Consecutive lines grouped into quoted and unquoted runs; `quoted` returns the line's text or null. */
function groupLines(
  text: string,
  quoted: (line: string) => string | null | false,
): Array<{ quote: boolean; text: string }> {
  const groups: Array<{ quote: boolean; lines: string[] }> = [];
  for (const line of text.split("\n")) {
    const inner = quoted(line);
    const quote = typeof inner === "string";
    const last = groups[groups.length - 1];
    const content = typeof inner === "string" ? inner : line;
    if (last && last.quote === quote) last.lines.push(content);
    else groups.push({ quote, lines: [content] });
  }
  return groups.map((g) => ({ quote: g.quote, text: g.lines.join("\n") }));
}
