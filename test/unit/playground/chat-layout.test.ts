import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  chatKindOf,
  discordColor,
  type EmbedField,
  embedFields,
  fieldRows,
  slackColor,
} from "../../../web/playground/src/chat-layout.ts";

const field = (name: string, inline: boolean): EmbedField => ({ name, value: "v", inline });
const names = (rows: EmbedField[][]) => rows.map((row) => row.map((f) => f.name).join(","));

describe("chat preview layout", () => {
  it("previews by template kind, else by the body's shape", () => {
    assert.equal(chatKindOf({ text: "x" }, "slack"), "slack");
    assert.equal(chatKindOf({ content: "x" }, "discord"), "discord");
    assert.equal(chatKindOf({ blocks: [] }, null), "slack");
    assert.equal(chatKindOf({ embeds: [] }, "json"), "discord");
    assert.equal(chatKindOf({ text: "x" }, null, "https://hooks.slack.com/services/T/B/X"), "slack");
    assert.equal(chatKindOf({ text: "x" }, null, "https://example.com/hook"), null);
    assert.equal(chatKindOf("plain", null), null);
  });

  it("puts inline Discord fields three to a row, two beside a thumbnail, others alone", () => {
    const fields = [
      field("a", true),
      field("b", true),
      field("c", true),
      field("d", true),
      field("e", false),
      field("f", true),
    ];
    assert.deepEqual(names(fieldRows(fields)), ["a,b,c", "d", "e", "f"]);
    assert.deepEqual(names(fieldRows(fields, true)), ["a,b", "c,d", "e", "f"]);
  });

  it("reads embed fields leniently", () => {
    assert.deepEqual(embedFields([{ name: "n", value: "v", inline: true }, { name: 3 }, "x"]), [
      { name: "n", value: "v", inline: true },
      { name: "", value: "", inline: false },
    ]);
    assert.deepEqual(embedFields(undefined), []);
  });

  it("turns colours into CSS", () => {
    assert.equal(discordColor(0xed4245), "#ed4245");
    assert.equal(discordColor(0xff), "#0000ff");
    assert.equal(discordColor(undefined), "#1e1f22");
    assert.equal(discordColor(0x1000000), "#1e1f22");
    assert.equal(slackColor("good"), "#2eb67d");
    assert.equal(slackColor("36a64f"), "#36a64f");
    assert.equal(slackColor("#abc"), "#abc");
    assert.equal(slackColor("red; background:url(x)"), "#dddddd");
  });
});
