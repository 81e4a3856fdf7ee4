/**
 * A Discord webhook message drawn the way the Discord client shows it (dark theme): the content,
 * then each embed with its colour bar, author, title, description, the field grid (inline fields
 * three to a row), image, thumbnail and footer with the time. Images are not fetched: they show
 * as a frame naming the host.
 */
import { chatTime, discordColor, embedFields, fieldRows } from "./chat-layout.ts";
import { parseDiscordMarkdown } from "./chat-markup.ts";
import { h, link } from "./dom.ts";
import { renderMarkup } from "./render-markup.ts";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const md = (text: string, className = "dc-text") => renderMarkup(parseDiscordMarkdown(text), className);

function imageFrame(value: unknown, className: string): HTMLElement | null {
  if (!isObject(value) || typeof value.url !== "string") return null;
  let host = value.url;
  try {
    host = new URL(value.url).host;
  } catch {}
  return h("div", { class: className, title: value.url }, h("span", {}, "image"), h("span", {}, host));
}

function embed(value: Json, now: Date): HTMLElement {
  const author = isObject(value.author) ? value.author : null;
  const footer = isObject(value.footer) ? value.footer : null;
  const thumbnail = imageFrame(value.thumbnail, "dc-thumbnail");
  const title = str(value.title);
  const timestamp = value.timestamp === undefined ? "" : chatTime(value.timestamp, now);
  const footerText = [footer ? str(footer.text) : "", timestamp].filter(Boolean).join(" • ");
  const el = h(
    "div",
    { class: "dc-embed", "data-testid": "discord-embed" },
    h(
      "div",
      { class: "dc-embed-main" },
      author
        ? h(
            "div",
            { class: "dc-author" },
            author.url ? link(str(author.url), str(author.name)) : str(author.name),
          )
        : null,
      title
        ? h(
            "div",
            { class: "dc-title" },
            value.url ? link(str(value.url), md(title, "dc-inline")) : md(title, "dc-inline"),
          )
        : null,
      value.description ? md(str(value.description), "dc-text dc-description") : null,
      ...fieldRows(embedFields(value.fields), thumbnail !== null).map((row) =>
        h(
          "div",
          { class: `dc-field-row dc-cols-${row.length}` },
          ...row.map((f) =>
            h(
              "div",
              { class: "dc-field" },
              md(f.name, "dc-field-name"),
              md(f.value, "dc-text dc-field-value"),
            ),
          ),
        ),
      ),
      imageFrame(value.image, "dc-image"),
      footerText ? h("div", { class: "dc-footer" }, footerText) : null,
    ),
    thumbnail,
  );
  // The bar is the embed's left border, in its colour.
  el.style.borderLeftColor = discordColor(value.color);
  return el;
}

/** The message row: avatar, name with the APP badge, time, content and embeds. */
export function renderDiscordMessage(message: unknown, now = new Date()): HTMLElement {
  const body = isObject(message) ? message : {};
  const name = str(body.username) || "Hookgate";
  const embeds = Array.isArray(body.embeds) ? body.embeds.filter(isObject) : [];
  return h(
    "div",
    { class: "dc-message", "data-testid": "discord-preview" },
    h("div", { class: "dc-avatar", "aria-hidden": "true" }, name.slice(0, 1).toUpperCase()),
    h(
      "div",
      { class: "dc-content" },
      h(
        "div",
        { class: "dc-meta" },
        h("span", { class: "dc-name" }, name),
        h("span", { class: "dc-app-badge" }, "APP"),
        h("span", { class: "dc-time" }, chatTime(undefined, now)),
      ),
      body.content ? md(str(body.content)) : null,
      ...embeds.map((e) => embed(e, now)),
    ),
  );
}
