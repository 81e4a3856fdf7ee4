/**
 * A Slack message drawn the way the Slack client shows it: Block Kit headers, sections with
 * fields and accessories, dividers, context lines, images, buttons, rich text and legacy
 * attachments with their colour bar. An approximation: layout and formatting follow Slack's, the
 * fonts and pixel sizes are close. Images are not fetched (the page talks to the gateway only):
 * they show as a frame with their alt text.
 */
import { chatTime, slackColor } from "./chat-layout.ts";
import { type Inline, parseMrkdwn, parsePlainText, slackText } from "./chat-markup.ts";
import { h, link } from "./dom.ts";
import { renderMarkup } from "./render-markup.ts";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** A text object: mrkdwn is formatted, plain_text is not. */
function textObject(value: unknown, className = "sk-text"): HTMLElement | null {
  if (!isObject(value)) return null;
  const text = str(value.text);
  const blocks = value.type === "mrkdwn" ? parseMrkdwn(text) : parsePlainText(text, value.emoji !== false);
  return renderMarkup(blocks, className);
}

function imageFrame(value: Json, className: string): HTMLElement {
  const alt = str(value.alt_text) || "image";
  let host = "";
  try {
    host = new URL(str(value.image_url)).host;
  } catch {}
  return h(
    "div",
    { class: className, title: str(value.image_url) },
    h("span", { class: "sk-image-alt" }, alt),
    host ? h("span", { class: "sk-image-host" }, host) : null,
  );
}

function button(value: Json): HTMLElement {
  const style = value.style === "primary" || value.style === "danger" ? ` sk-button-${value.style}` : "";
  const label = isObject(value.text) ? str(value.text.text) : "button";
  const el = h("span", { class: `sk-button${style}` }, label);
  return typeof value.url === "string" ? link(value.url, el) : el;
}

/** An interactive element (button, select, date picker…): buttons look like buttons, the rest like a control. */
function element(value: Json): HTMLElement {
  if (value.type === "button") return button(value);
  if (value.type === "image") return imageFrame(value, "sk-accessory-image");
  const placeholder = isObject(value.placeholder) ? str(value.placeholder.text) : "";
  return h("span", { class: "sk-control" }, placeholder || str(value.type));
}

function section(block: Json): HTMLElement {
  const fields = list(block.fields);
  const accessory = isObject(block.accessory) ? element(block.accessory) : null;
  return h(
    "div",
    { class: "sk-section" },
    h(
      "div",
      { class: "sk-section-main" },
      textObject(block.text),
      fields.length
        ? h("div", { class: "sk-fields" }, ...fields.map((f) => textObject(f, "sk-text sk-field")))
        : null,
    ),
    accessory ? h("div", { class: "sk-accessory" }, accessory) : null,
  );
}

function context(block: Json): HTMLElement {
  return h(
    "div",
    { class: "sk-context" },
    ...list(block.elements).map((e) =>
      e.type === "image" ? imageFrame(e, "sk-context-image") : textObject(e, "sk-text sk-context-text"),
    ),
  );
}

// rich_text: sections of styled runs, lists, quotes and preformatted blocks.
function richRun(run: Json): Inline {
  const text = str(run.text);
  if (run.type === "link") {
    return { kind: "link", href: str(run.url), children: [{ kind: "text", text: text || str(run.url) }] };
  }
  if (run.type === "user") return { kind: "mention", text: `@${str(run.user_id)}` };
  if (run.type === "channel") return { kind: "mention", text: `#${str(run.channel_id)}` };
  if (run.type === "broadcast") return { kind: "mention", text: `@${str(run.range)}` };
  if (run.type === "emoji") return { kind: "text", text: `:${str(run.name)}:` };
  const style = isObject(run.style) ? run.style : {};
  let node: Inline = style.code ? { kind: "code", text } : { kind: "text", text };
  if (style.bold) node = { kind: "bold", children: [node] };
  if (style.italic) node = { kind: "italic", children: [node] };
  if (style.strike) node = { kind: "strike", children: [node] };
  return node;
}

function richText(block: Json): HTMLElement {
  const runs = (e: Json): Inline[] => list(e.elements).map(richRun);
  return h(
    "div",
    { class: "sk-section" },
    ...list(block.elements).map((e) => {
      if (e.type === "rich_text_list") {
        const tag = e.style === "ordered" ? "ol" : "ul";
        return h(
          tag,
          {},
          ...list(e.elements).map((item) =>
            h("li", {}, renderMarkup([{ kind: "paragraph", children: runs(item) }], "sk-text")),
          ),
        );
      }
      if (e.type === "rich_text_preformatted") return h("pre", {}, runs(e).map(plain).join(""));
      const kind = e.type === "rich_text_quote" ? "quote" : "paragraph";
      return renderMarkup([{ kind, children: runs(e) }], "sk-text");
    }),
  );
}

function plain(node: Inline): string {
  if (node.kind === "text" || node.kind === "code" || node.kind === "mention") return node.text;
  if (node.kind === "break") return "\n";
  return node.children.map(plain).join("");
}

function block(value: Json): HTMLElement {
  switch (value.type) {
    case "header":
      return h("div", { class: "sk-header" }, isObject(value.text) ? slackText(str(value.text.text)) : "");
    case "section":
      return section(value);
    case "divider":
      return h("hr", { class: "sk-divider" });
    case "context":
      return context(value);
    case "image":
      return h(
        "div",
        { class: "sk-image-block" },
        isObject(value.title) ? h("div", { class: "sk-image-title" }, str(value.title.text)) : null,
        imageFrame(value, "sk-image"),
      );
    case "actions":
      return h("div", { class: "sk-actions" }, ...list(value.elements).map(element));
    case "rich_text":
      return richText(value);
    default:
      return h("div", { class: "sk-unknown" }, `[${str(value.type) || "unknown"} block]`);
  }
}

/** Legacy attachments: a coloured bar beside pretext, title, text, fields and footer. */
function attachment(value: Json): HTMLElement {
  const md = (v: unknown) => renderMarkup(parseMrkdwn(str(v)), "sk-text");
  const bar = h("div", { class: "sk-attachment-bar" });
  bar.style.backgroundColor = slackColor(value.color);
  return h(
    "div",
    { class: "sk-attachment" },
    bar,
    h(
      "div",
      { class: "sk-attachment-body" },
      value.pretext ? md(value.pretext) : null,
      value.author_name ? h("div", { class: "sk-attachment-author" }, str(value.author_name)) : null,
      value.title
        ? h(
            "div",
            { class: "sk-attachment-title" },
            value.title_link ? link(str(value.title_link), str(value.title)) : str(value.title),
          )
        : null,
      value.text ? md(value.text) : null,
      ...list(value.blocks).map(block),
      h(
        "div",
        { class: "sk-fields" },
        ...list(value.fields).map((f) =>
          h(
            "div",
            { class: f.short ? "sk-field" : "sk-field sk-field-long" },
            h("strong", {}, str(f.title)),
            md(f.value),
          ),
        ),
      ),
      value.footer ? h("div", { class: "sk-attachment-footer" }, str(value.footer)) : null,
    ),
  );
}

/** The whole message as one Slack message row: app icon, name, time, then the content. */
export function renderSlackMessage(message: unknown, now = new Date()): HTMLElement {
  const body = isObject(message) ? message : {};
  const blocks = list(body.blocks);
  const attachments = list(body.attachments);
  const text = str(body.text);
  const name = str(body.username) || "Hookgate";
  const content =
    blocks.length > 0
      ? blocks.map(block)
      : [renderMarkup(body.mrkdwn === false ? parsePlainText(text) : parseMrkdwn(text), "sk-text")];
  return h(
    "div",
    { class: "sk-message", "data-testid": "slack-preview" },
    h("div", { class: "sk-avatar", "aria-hidden": "true" }, name.slice(0, 1).toUpperCase()),
    h(
      "div",
      { class: "sk-content" },
      h(
        "div",
        { class: "sk-meta" },
        h("span", { class: "sk-name" }, name),
        h("span", { class: "sk-app-badge" }, "APP"),
        h("span", { class: "sk-time" }, chatTime(undefined, now)),
      ),
      ...content,
      ...attachments.map(attachment),
      blocks.length > 0
        ? h(
            "div",
            { class: "sk-fallback" },
            h("span", {}, "Notification text: "),
            slackText(text) || "(none)",
          )
        : null,
    ),
  );
}
