import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cutDiscord,
  discordSafe,
  escapeDiscordMarkdown,
  neutralizeMentions,
} from "../../../src/templates/discord-markdown.ts";

describe("neutralizeMentions", () => {
  it("puts a zero-width space after @ in @everyone and @here, any case", () => {
    assert.equal(
      neutralizeMentions("@everyone @here @Everyone"),
      "@\u200beveryone @\u200bhere @\u200bEveryone",
    );
    assert.equal(neutralizeMentions("mail@example.com"), "mail@example.com");
  });
});

describe("escapeDiscordMarkdown", () => {
  it("turns a masked link and a mention into literal text", () => {
    assert.equal(escapeDiscordMarkdown("[x](https://evil)"), "\\[x\\]\\(https://evil\\)");
    assert.equal(escapeDiscordMarkdown("<@123>"), "\\<@123\\>");
  });

  it("escapes backslashes first-class, so an escape cannot be cancelled", () => {
    assert.equal(escapeDiscordMarkdown("\\*"), "\\\\\\*");
  });

  it("discordSafe does both", () => {
    assert.equal(discordSafe("@here *x*"), "@\u200bhere \\*x\\*");
  });
});

describe("cutDiscord", () => {
  it("never leaves a dangling backslash before the ellipsis", () => {
    const text = escapeDiscordMarkdown("*".repeat(50));
    for (let max = 2; max < text.length; max++) {
      const kept = cutDiscord(text, max).slice(0, -1);
      const trailing = kept.length - kept.replace(/\\+$/, "").length;
      assert.equal(trailing % 2, 0, `odd backslashes at ${max}`);
    }
  });
});
