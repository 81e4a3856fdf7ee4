import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type Block,
  type Inline,
  parseDiscordMarkdown,
  parseMrkdwn,
  parsePlainText,
  safeHref,
} from "../../../web/playground/src/chat-markup.ts";

/** The tree as a compact string: [b:…] bold, [i:…] italic, [link href:…], {mention}, ⏎ break. */
function show(nodes: readonly Inline[]): string {
  return nodes
    .map((n) => {
      switch (n.kind) {
        case "text":
          return n.text;
        case "break":
          return "⏎";
        case "code":
          return `\`${n.text}\``;
        case "mention":
          return `{${n.text}}`;
        case "link":
          return `[link ${n.href}:${show(n.children)}]`;
        default:
          return `[${n.kind[0]}:${show(n.children)}]`;
      }
    })
    .join("");
}

function blocks(list: readonly Block[]): string[] {
  return list.map((b) => (b.kind === "pre" ? `pre:${b.text}` : `${b.kind}:${show(b.children)}`));
}

describe("Slack mrkdwn", () => {
  it("formats bold, italic, strike and code, only at word boundaries", () => {
    assert.deepEqual(blocks(parseMrkdwn("*Invoice* _due_ ~old~ `id-1`")), [
      "paragraph:[b:Invoice] [i:due] [s:old] `id-1`",
    ]);
    assert.deepEqual(blocks(parseMrkdwn("a*b*c snake_case_name 2*3*4")), [
      "paragraph:a*b*c snake_case_name 2*3*4",
    ]);
    assert.deepEqual(blocks(parseMrkdwn("* not bold *")), ["paragraph:* not bold *"]);
  });

  it("reads links, mentions and dates in angle brackets", () => {
    assert.deepEqual(
      blocks(parseMrkdwn("<https://x.example/a?b=1&amp;c=2|the *invoice*> <https://y.example>")),
      [
        "paragraph:[link https://x.example/a?b=1&c=2:the [b:invoice]] [link https://y.example:https://y.example]",
      ],
    );
    assert.deepEqual(
      blocks(parseMrkdwn("<!here> <@U123|ada> <#C1|billing> <!date^1700000000^{date}|Nov 14>")),
      ["paragraph:{@here} {@ada} {#billing} Nov 14"],
    );
  });

  it("shows escaped text as the characters it stands for: no mention, link or quote", () => {
    assert.deepEqual(blocks(parseMrkdwn("&lt;!channel&gt; &lt;https://evil.example|click&gt; a &amp; b")), [
      "paragraph:<!channel> <https://evil.example|click> a & b",
    ]);
    assert.deepEqual(blocks(parseMrkdwn("&gt; not a quote\n> a quote\n> on two lines\nafter")), [
      "paragraph:> not a quote",
      "quote:a quote⏎on two lines",
      "paragraph:after",
    ]);
  });

  it("keeps code blocks verbatim", () => {
    assert.deepEqual(blocks(parseMrkdwn("before\n```*x* &lt;y&gt;```\nafter")), [
      "paragraph:before",
      "pre:*x* <y>",
      "paragraph:after",
    ]);
  });

  it("leaves plain_text unformatted", () => {
    assert.deepEqual(blocks(parsePlainText("*a*\n<!here> &amp;")), ["paragraph:*a*⏎<!here> &"]);
  });

  it("draws known :shortcodes: as emoji and leaves the others", () => {
    assert.deepEqual(blocks(parseMrkdwn(":incoming_envelope: *New* :custom-logo:")), [
      "paragraph:📨 [b:New] :custom-logo:",
    ]);
    assert.deepEqual(blocks(parsePlainText(":rotating_light: Bounce")), ["paragraph:🚨 Bounce"]);
    assert.deepEqual(blocks(parsePlainText(":rotating_light: Bounce", false)), [
      "paragraph::rotating_light: Bounce",
    ]);
  });
});

describe("Discord markdown", () => {
  it("formats bold, underline, italic, strike, spoilers, code and masked links", () => {
    assert.deepEqual(
      blocks(parseDiscordMarkdown("**b** __u__ *i* _j_ ~~s~~ ||sp|| `c` [docs](https://x.example/d)")),
      ["paragraph:[b:b] [u:u] [i:i] [i:j] [s:s] [s:sp] `c` [link https://x.example/d:docs]"],
    );
  });

  it("links bare URLs and shows mentions", () => {
    assert.deepEqual(blocks(parseDiscordMarkdown("see https://x.example/a. @everyone <@42> <#7>")), [
      "paragraph:see [link https://x.example/a:https://x.example/a]. {@everyone} {@user 42} {#channel 7}",
    ]);
  });

  it("reads headings, quotes and the quote-the-rest marker", () => {
    assert.deepEqual(blocks(parseDiscordMarkdown("# Bounce\ntext\n> quoted\n>>> all\nthe rest")), [
      "heading:Bounce",
      "paragraph:text",
      "quote:quoted",
      "quote:all⏎the rest",
    ]);
  });

  it("has no entities (&amp; is shown as written) but backslash escapes", () => {
    assert.deepEqual(blocks(parseDiscordMarkdown("a &amp; b")), ["paragraph:a &amp; b"]);
    assert.deepEqual(blocks(parseDiscordMarkdown("Ada \\<ada@example.com\\> \\*not italic\\* a\\b")), [
      "paragraph:Ada <ada@example.com> *not italic* a\\b",
    ]);
  });
});

describe("links", () => {
  it("become anchors only for web and mail addresses", () => {
    assert.equal(safeHref("https://x.example/a"), "https://x.example/a");
    assert.equal(safeHref("mailto:ada@example.com"), "mailto:ada@example.com");
    assert.equal(safeHref("javascript:alert(1)"), null);
    assert.equal(safeHref(" JavaScript:alert(1)"), null);
    assert.equal(safeHref("data:text/html,<b>x</b>"), null);
  });
});
