import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cutMrkdwn, escapeMrkdwn } from "../../../src/templates/mrkdwn.ts";

describe("escapeMrkdwn", () => {
  it("escapes exactly &, < and >", () => {
    assert.equal(escapeMrkdwn("a & b < c > d"), "a &amp; b &lt; c &gt; d");
    assert.equal(escapeMrkdwn(`*bold* _it_ "q" \\ '`), `*bold* _it_ "q" \\ '`);
  });

  it("defuses pings, mentions and disguised links", () => {
    assert.equal(escapeMrkdwn("<!channel>"), "&lt;!channel&gt;");
    assert.equal(escapeMrkdwn("<@U123>"), "&lt;@U123&gt;");
    assert.equal(escapeMrkdwn("<https://evil|click>"), "&lt;https://evil|click&gt;");
  });

  it("escapes an existing entity again, because email text is literal", () => {
    assert.equal(escapeMrkdwn("&amp;"), "&amp;amp;");
  });

  it("prints non-strings and nothing for null", () => {
    assert.equal(escapeMrkdwn(null), "");
    assert.equal(escapeMrkdwn(undefined), "");
    assert.equal(escapeMrkdwn(42), "42");
  });
});

describe("cutMrkdwn", () => {
  it("never ends inside an entity, at any cut point", () => {
    const text = escapeMrkdwn("a&b<c>d&&<<>>".repeat(20));
    for (let max = 1; max < text.length; max++) {
      const out = cutMrkdwn(text, max);
      assert.ok(out.length <= max);
      const kept = out.slice(0, -1);
      const lastAmp = kept.lastIndexOf("&");
      if (lastAmp >= 0) {
        assert.match(
          kept.slice(lastAmp),
          /^&(amp|lt|gt);/,
          `cut inside an entity at ${max}: ${kept.slice(-6)}`,
        );
      }
    }
  });

  it("never cuts inside a <…> token that closes later", () => {
    const text = `see <https://example.com/a/very/long/path|the report> now`;
    const out = cutMrkdwn(text, 20);
    assert.equal(out, "see …");
  });

  it("cuts inside a token only when nothing before it could be kept", () => {
    const text = `<https://example.com/${"x".repeat(100)}|link>`;
    assert.equal(cutMrkdwn(text, 30).length, 30);
  });

  it("never splits an emoji at a cut point", () => {
    const text = `&${"😀".repeat(20)}`;
    for (let max = 1; max < text.length; max++) assert.ok(cutMrkdwn(text, max).isWellFormed());
  });
});
