import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkSlackMessage,
  fitSlackMessage,
  isSlackMessage,
  SLACK_FALLBACK_TEXT,
  SLACK_LIMITS,
} from "../../../src/templates/slack-limits.ts";

const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
const field = (text: string) => ({ type: "mrkdwn", text });

describe("isSlackMessage", () => {
  it("recognises a string text or a blocks array", () => {
    assert.equal(isSlackMessage({ text: "hi" }), true);
    assert.equal(isSlackMessage({ blocks: [] }), true);
    assert.equal(isSlackMessage({ type: "messageNew", data: { text: "x" } }), false);
    assert.equal(isSlackMessage({ text: { plain: "x" } }), false);
    assert.equal(isSlackMessage(["text"]), false);
  });
});

describe("fitSlackMessage", () => {
  it("keeps at most 50 blocks and reports the drop", () => {
    const message = { text: "t", blocks: Array.from({ length: 60 }, (_, i) => section(`s${i}`)) };
    const cuts = fitSlackMessage(message);
    assert.equal(message.blocks.length, SLACK_LIMITS.blocks);
    assert.deepEqual(cuts, [{ path: "blocks", limit: 50, originalLength: 60 }]);
    assert.deepEqual(checkSlackMessage(message), []);
  });

  it("cuts a 10,000-character header to 150 with an ellipsis", () => {
    const message = {
      text: "t",
      blocks: [{ type: "header", text: { type: "plain_text", text: "H".repeat(10_000) } }],
    };
    const cuts = fitSlackMessage(message);
    const text = message.blocks[0]?.text.text ?? "";
    assert.equal(text.length, 150);
    assert.ok(text.endsWith("…"));
    assert.deepEqual(cuts, [{ path: "blocks[0].text.text", limit: 150, originalLength: 10_000 }]);
  });

  it("cuts section text to 3000, fields to 10 of at most 2000, context to 10 elements", () => {
    const message = {
      text: "t",
      blocks: [
        {
          type: "section",
          text: { type: "mrkdwn", text: "s".repeat(5000) },
          fields: Array.from({ length: 12 }, () => field("f".repeat(2500))),
        },
        { type: "context", elements: Array.from({ length: 12 }, () => field("c".repeat(4000))) },
      ],
    };
    const cuts = fitSlackMessage(message);
    assert.deepEqual(checkSlackMessage(message), []);
    const paths = cuts.map((c) => c.path);
    assert.ok(paths.includes("blocks[0].text.text"));
    assert.ok(paths.includes("blocks[0].fields"));
    assert.ok(paths.includes("blocks[0].fields[9].text"));
    assert.ok(!paths.includes("blocks[0].fields[10].text"));
    assert.ok(paths.includes("blocks[1].elements"));
    assert.ok(paths.includes("blocks[1].elements[0].text"));
    assert.deepEqual(
      cuts.find((c) => c.path === "blocks[0].fields"),
      { path: "blocks[0].fields", limit: 10, originalLength: 12 },
    );
  });

  it("cuts the top-level text to 40,000", () => {
    const message = { text: "x".repeat(50_000) };
    assert.deepEqual(fitSlackMessage(message), [{ path: "text", limit: 40_000, originalLength: 50_000 }]);
    assert.equal(message.text.length, 40_000);
  });

  it("derives a missing or blank text from the blocks, without reporting a cut", () => {
    const message: Record<string, unknown> = {
      text: "  ",
      blocks: [{ type: "header", text: { type: "plain_text", text: "Title" } }, section("Body")],
    };
    assert.deepEqual(fitSlackMessage(message), []);
    assert.equal(message.text, "Title\nBody");
  });

  it("falls back to attachments, then to a fixed text", () => {
    const withAttachment: Record<string, unknown> = { blocks: [], attachments: [{ fallback: "Old style" }] };
    fitSlackMessage(withAttachment);
    assert.equal(withAttachment.text, "Old style");
    const empty: Record<string, unknown> = { blocks: [{ type: "divider" }] };
    fitSlackMessage(empty);
    assert.equal(empty.text, SLACK_FALLBACK_TEXT);
  });

  it("does not escape what the author wrote", () => {
    const message = { text: "<!here> <https://x|link> &amp;", blocks: [section("<@U123> *hi*")] };
    assert.deepEqual(fitSlackMessage(message), []);
    assert.equal(message.text, "<!here> <https://x|link> &amp;");
    assert.equal(message.blocks[0]?.text.text, "<@U123> *hi*");
  });

  it("leaves unknown blocks alone", () => {
    const image = { type: "image", image_url: "https://x/y.png", alt_text: "a".repeat(5000) };
    const message = { text: "t", blocks: [image] };
    assert.deepEqual(fitSlackMessage(message), []);
    assert.equal(message.blocks[0], image);
  });
});

describe("checkSlackMessage", () => {
  it("accepts a minimal message", () => {
    assert.deepEqual(checkSlackMessage({ text: "hi" }), []);
  });

  it("lists every violation", () => {
    const problems = checkSlackMessage({
      blocks: [
        { type: "header", text: { type: "mrkdwn", text: "H".repeat(151) } },
        { type: "section" },
        { type: "section", fields: Array(11).fill(field("f".repeat(2001))) },
        { type: "context", elements: Array(11).fill(field("c")) },
        { nope: true },
        ...Array(50).fill({ type: "divider" }),
      ],
    });
    const expected = [
      "text: a non-empty top-level text is required",
      "blocks: 55 blocks, at most 50",
      "blocks[0].text.type: must be plain_text",
      "blocks[0].text.text: 151 characters, at most 150",
      "blocks[1]: a section needs text or fields",
      "blocks[2].fields: 11 fields, at most 10",
      "blocks[2].fields[0].text: 2001 characters, at most 2000",
      "blocks[3].elements: 11 elements, at most 10",
      "blocks[4]: must be an object with a string type",
    ];
    for (const start of expected) {
      assert.ok(
        problems.some((p) => p.startsWith(start)),
        `missing ${start} in ${problems.join("\n")}`,
      );
    }
  });

  it("refuses non-objects and a non-array blocks", () => {
    assert.deepEqual(checkSlackMessage("hi"), ["message: must be a JSON object"]);
    assert.deepEqual(checkSlackMessage({ text: "t", blocks: {} }), ["blocks: must be an array"]);
  });

  it("refuses empty text objects", () => {
    assert.deepEqual(checkSlackMessage({ text: "t", blocks: [section("")] }), [
      "blocks[0].text.text: must be a non-empty string",
    ]);
  });
});
