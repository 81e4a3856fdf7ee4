import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkDiscordMessage,
  checkSlackMessage,
  renderBody,
  TemplateRenderError,
} from "../../../src/templates/index.ts";
import { emailEngineMessageNew } from "../../fixtures/templates/email-events.ts";

describe("renderBody without a template", () => {
  it("sends the payload as JSON", () => {
    for (const template of [undefined, null]) {
      const rendered = renderBody(template, emailEngineMessageNew, "r@1");
      assert.deepEqual(rendered, {
        body: JSON.stringify(emailEngineMessageNew),
        contentType: "application/json",
        truncations: [],
      });
    }
  });

  it("sends a map's scalar output as JSON too", () => {
    assert.equal(renderBody(undefined, "just text", "r@1").body, '"just text"');
    assert.equal(renderBody(undefined, undefined, "r@1").body, "null");
  });
});

describe("renderBody json and text", () => {
  it("json: the rendered text as written, as application/json", () => {
    const rendered = renderBody(
      { kind: "json", body: '{ "s": "{{data.subject}}" }' },
      emailEngineMessageNew,
      "r@1",
    );
    assert.deepEqual(rendered, {
      body: '{ "s": "Invoice 1043 is ready" }',
      contentType: "application/json",
      truncations: [],
    });
  });

  it("a Teams-style card renders from the event", () => {
    const body = `{
  "@type": "MessageCard",
  "summary": "{{data.subject}}",
  "sections": [{
    "activityTitle": "{{default data.from.name data.from.address}}",
    "facts": [{{#each data.to}}{"name": "To", "value": "{{address}}"}{{#unless @last}},{{/unless}}{{/each}}]
  }]
}`;
    const card = JSON.parse(renderBody({ kind: "json", body }, emailEngineMessageNew, "r@1").body);
    assert.equal(card.sections[0].activityTitle, "Ada Lovelace");
    assert.deepEqual(card.sections[0].facts, [
      { name: "To", value: "support@example.org" },
      { name: "To", value: "billing@example.org" },
    ]);
  });
});

describe("renderBody slack", () => {
  it("passes a map-built Slack message through without escaping it again", () => {
    const built = {
      text: "New invoice from <mailto:ada@example.com|Ada> &amp; co",
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: "<!here> *Invoice* <https://billing/1043|#1043>" } },
      ],
    };
    const rendered = renderBody({ kind: "slack" }, built, "r@1");
    assert.deepEqual(JSON.parse(rendered.body), built);
    assert.deepEqual(rendered.truncations, []);
  });

  it("still enforces limits on a map-built message, reports them, and leaves the payload alone", () => {
    const built = {
      blocks: [
        { type: "header", text: { type: "plain_text", text: "H".repeat(400) } },
        ...Array.from({ length: 60 }, () => ({ type: "divider" })),
      ],
    };
    const before = JSON.stringify(built);
    const rendered = renderBody({ kind: "slack" }, built, "r@1");
    const message = JSON.parse(rendered.body);
    assert.deepEqual(checkSlackMessage(message), []);
    assert.equal(message.blocks.length, 50);
    assert.equal(message.text, `${"H".repeat(149)}…`, "text derived from the header");
    assert.deepEqual(rendered.truncations, [
      { path: "blocks", limit: 50, originalLength: 61 },
      { path: "blocks[0].text.text", limit: 150, originalLength: 400 },
    ]);
    assert.equal(JSON.stringify(built), before);
  });

  it("renders a body template and fits it", () => {
    const body = `{"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*{{escapeMrkdwn data.subject}}*\\n{{escapeMrkdwn data.text.plain}}"}}]}`;
    const rendered = renderBody({ kind: "slack", body }, emailEngineMessageNew, "r@1");
    const message = JSON.parse(rendered.body);
    assert.deepEqual(checkSlackMessage(message), []);
    assert.match(message.blocks[0].text.text, /^\*Invoice 1043 is ready\*\nHello,/);
    assert.equal(message.text, message.blocks[0].text.text);
  });

  it("fails when a body renders something Slack would refuse", () => {
    assert.throws(
      () => renderBody({ kind: "slack", body: '{"blocks": [{"type": "section"}]}' }, {}, "r@1"),
      (e: unknown) =>
        e instanceof TemplateRenderError &&
        /not a valid Slack message: blocks\[0\]: a section needs text/.test(e.message),
    );
  });
});

describe("renderBody discord", () => {
  it("passes a map-built Discord message through, forcing allowed_mentions", () => {
    const built = { content: "**New mail** for <@123> @everyone", allowed_mentions: { parse: ["everyone"] } };
    const message = JSON.parse(renderBody({ kind: "discord" }, built, "r@1").body);
    assert.deepEqual(message, {
      content: "**New mail** for <@123> @everyone",
      allowed_mentions: { parse: [] },
    });
    assert.deepEqual(built.allowed_mentions, { parse: ["everyone"] }, "payload untouched");
  });

  it("keeps the author's allowed_mentions when the route allows mentions", () => {
    const built = { content: "<@123> look", allowed_mentions: { users: ["123"] } };
    const message = JSON.parse(renderBody({ kind: "discord", allowMentions: true }, built, "r@1").body);
    assert.deepEqual(message.allowed_mentions, { users: ["123"] });
  });

  it("renders a body template", () => {
    const body = '{"content": "{{truncate data.subject 50}}", "embeds": [{"title": "{{data.from.name}}"}]}';
    const rendered = renderBody({ kind: "discord", body }, emailEngineMessageNew, "r@1");
    const message = JSON.parse(rendered.body);
    assert.deepEqual(checkDiscordMessage(message), []);
    assert.equal(message.content, "Invoice 1043 is ready");
    assert.deepEqual(message.allowed_mentions, { parse: [] });
  });

  it("fails on an empty message", () => {
    assert.throws(
      () => renderBody({ kind: "discord", body: '{"content": "{{missing}}"}' }, {}, "r@1"),
      (e: unknown) => e instanceof TemplateRenderError && /needs non-empty content/.test(e.message),
    );
  });
});
