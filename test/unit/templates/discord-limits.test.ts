import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkDiscordMessage,
  DISCORD_LIMITS,
  embedTextLength,
  fitDiscordMessage,
  isDiscordMessage,
} from "../../../src/templates/discord-limits.ts";

type Embed = {
  title?: string;
  description?: string;
  fields?: Array<{ name: string; value: string; inline?: boolean }>;
  footer?: { text: string };
  author?: { name: string };
};

const fields = (n: number, value: string) => Array.from({ length: n }, (_, i) => ({ name: `f${i}`, value }));

describe("isDiscordMessage", () => {
  it("recognises a string content or an embeds array", () => {
    assert.equal(isDiscordMessage({ content: "hi" }), true);
    assert.equal(isDiscordMessage({ embeds: [] }), true);
    assert.equal(isDiscordMessage({ type: "x", data: { content: "y" } }), false);
  });
});

describe("fitDiscordMessage", () => {
  it("cuts content to 2000 and forces allowed_mentions", () => {
    const message: Record<string, unknown> = { content: "@everyone ".repeat(300) };
    const cuts = fitDiscordMessage(message);
    assert.equal((message.content as string).length, 2000);
    assert.deepEqual(message.allowed_mentions, { parse: [] });
    assert.deepEqual(cuts, [{ path: "content", limit: 2000, originalLength: 3000 }]);
  });

  it("replaces an allowed_mentions that would ping, unless the route allows mentions", () => {
    const pinging = { content: "hi", allowed_mentions: { parse: ["everyone", "users"] } };
    fitDiscordMessage(pinging);
    assert.deepEqual(pinging.allowed_mentions, { parse: [] });
    const allowed = { content: "hi", allowed_mentions: { parse: ["users"] } };
    fitDiscordMessage(allowed, { allowMentions: true });
    assert.deepEqual(allowed.allowed_mentions, { parse: ["users"] });
    assert.deepEqual(checkDiscordMessage(allowed, { allowMentions: true }), []);
  });

  it("keeps at most 10 embeds and 25 fields, and cuts every embed text to its limit", () => {
    const embeds: Embed[] = Array.from({ length: 12 }, () => ({ title: "t" }));
    embeds[0] = {
      title: "T".repeat(300),
      description: "D".repeat(5000),
      fields: fields(30, "v".repeat(2000)).map((f) => ({ ...f, name: "n".repeat(300) })),
      footer: { text: "F".repeat(3000) },
      author: { name: "A".repeat(300) },
    };
    const message = { embeds };
    const cuts = fitDiscordMessage(message);
    const paths = cuts.map((c) => c.path);
    for (const path of [
      "embeds",
      "embeds[0].title",
      "embeds[0].description",
      "embeds[0].fields",
      "embeds[0].fields[0].name",
      "embeds[0].fields[0].value",
      "embeds[0].footer.text",
      "embeds[0].author.name",
    ]) {
      assert.ok(paths.includes(path), `no truncation reported for ${path}`);
    }
    assert.deepEqual(cuts[0], { path: "embeds", limit: 10, originalLength: 12 });
    assert.equal(message.embeds.length, 10);
    assert.deepEqual(checkDiscordMessage(message), []);
  });

  it("trims descriptions first to fit 6000 characters of embed text in total", () => {
    const embeds: Embed[] = [
      { title: "one", description: "a".repeat(4000) },
      { title: "two", description: "b".repeat(4000) },
    ];
    const message = { embeds };
    const cuts = fitDiscordMessage(message);
    const total = embeds.reduce((sum, e) => sum + embedTextLength(e), 0);
    assert.ok(total <= DISCORD_LIMITS.embedTotal, `total ${total}`);
    assert.equal(embeds[0]?.description?.length, 4000, "the first embed keeps its description");
    assert.deepEqual(cuts, [{ path: "embeds[1].description", limit: 1994, originalLength: 4000 }]);
    assert.deepEqual(checkDiscordMessage(message), []);
  });

  it("reports a value cut twice once, with the smaller limit", () => {
    const embeds: Embed[] = [{ description: "a".repeat(5000), fields: fields(3, "v".repeat(1000)) }];
    const cuts = fitDiscordMessage({ embeds });
    // 4096 after its own cap, then 1099 more to fit 6000 next to 3 × (2 + 1000) of fields.
    assert.deepEqual(cuts, [{ path: "embeds[0].description", limit: 2994, originalLength: 5000 }]);
    assert.equal(embedTextLength(embeds[0]), DISCORD_LIMITS.embedTotal);
  });

  it("then field values, then whole fields, then footers, then trailing embeds", () => {
    const embeds: Embed[] = Array.from({ length: 10 }, (_, i) => ({
      title: `T${i}`.padEnd(256, "t"),
      fields: fields(25, "v".repeat(1024)).map((f) => ({ ...f, name: "n".repeat(256) })),
      footer: { text: "F".repeat(2048) },
      author: { name: "A".repeat(256) },
    }));
    const message = { embeds };
    const cuts = fitDiscordMessage(message);
    const total = embeds.reduce((sum, e) => sum + embedTextLength(e), 0);
    assert.ok(total <= DISCORD_LIMITS.embedTotal, `total ${total}`);
    assert.deepEqual(checkDiscordMessage(message), []);
    assert.ok(cuts.some((c) => c.path.endsWith(".value")));
    assert.ok(cuts.some((c) => /^embeds\[\d\]\.fields$/.test(c.path)));
    assert.equal(
      embeds[0]?.title,
      "T0".padEnd(256, "t"),
      "the first embed's title is never cut to fit the total",
    );
  });

  it("does not escape what the author wrote", () => {
    const message = { content: "**bold** <@123> [x](https://y)" };
    assert.deepEqual(fitDiscordMessage(message), []);
    assert.equal(message.content, "**bold** <@123> [x](https://y)");
  });
});

describe("checkDiscordMessage", () => {
  it("lists every violation", () => {
    const problems = checkDiscordMessage({
      content: "c".repeat(2001),
      username: "u".repeat(81),
      embeds: [
        {
          title: "t".repeat(257),
          description: "d".repeat(4097),
          fields: [...fields(25, "v"), { name: "", value: "v".repeat(1025) }],
          footer: { text: "f".repeat(2049) },
          author: { name: "a".repeat(257) },
        },
        ...Array(10).fill({ title: "x" }),
      ],
    });
    for (const start of [
      "content: 2001 characters",
      "username: 81 characters",
      "embeds: 11 embeds",
      "embeds[0].title: 257",
      "embeds[0].description: 4097",
      "embeds[0].fields: 26 fields",
      "embeds[0].fields[25].name: must be a non-empty string",
      "embeds[0].fields[25].value: 1025",
      "embeds[0].footer.text: 2049",
      "embeds[0].author.name: 257",
      "embeds: 7",
      "allowed_mentions: must be",
    ]) {
      assert.ok(
        problems.some((p) => p.startsWith(start)),
        `missing ${start} in\n${problems.join("\n")}`,
      );
    }
  });

  it("refuses an empty message", () => {
    assert.deepEqual(checkDiscordMessage({ content: " ", allowed_mentions: { parse: [] } }), [
      "message: needs non-empty content or at least one embed",
    ]);
  });

  it("refuses allowed_mentions that lists users or roles", () => {
    assert.equal(
      checkDiscordMessage({ content: "x", allowed_mentions: { parse: [], users: ["1"] } }).length,
      1,
    );
    assert.deepEqual(checkDiscordMessage({ content: "x", allowed_mentions: { parse: [], users: [] } }), []);
  });
});
