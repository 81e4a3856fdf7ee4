import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderBody, TemplateRenderError } from "../../../src/templates/index.ts";

const text = (body: string, payload: unknown = {}) =>
  renderBody({ kind: "text", body }, payload, "helpers@1").body;
const json = (body: string, payload: unknown = {}) =>
  JSON.parse(renderBody({ kind: "json", body }, payload, "helpers@1").body) as unknown;

describe("helpers", () => {
  it("escapeMrkdwn escapes for Slack and composes with JSON escaping", () => {
    assert.equal(
      text("{{escapeMrkdwn s}}", { s: "<!channel> & <x|y>" }),
      "&lt;!channel&gt; &amp; &lt;x|y&gt;",
    );
    assert.deepEqual(json('{"t": "{{escapeMrkdwn s}}"}', { s: '"<@U1>"' }), { t: '"&lt;@U1&gt;"' });
  });

  it("truncate cuts with an ellipsis without splitting an entity or an emoji", () => {
    assert.equal(text("{{truncate s 5}}", { s: "abcdefgh" }), "abcd…");
    assert.equal(text("{{truncate s 10}}", { s: "short" }), "short");
    assert.equal(text("{{truncate (escapeMrkdwn s) 6}}", { s: "ab&cd" }), "ab…");
    assert.equal(text("{{truncate s 3}}", { s: "😀😀😀" }), "😀…");
  });

  it("truncate refuses a length that is not a positive integer", () => {
    for (const bad of ['"5"', "0", "-1", "1.5"]) {
      assert.throws(() => text(`{{truncate s ${bad}}}`, { s: "x" }), TemplateRenderError, bad);
    }
  });

  it("default replaces null, missing and empty values only", () => {
    assert.equal(
      text('{{default a "-"}}|{{default b "-"}}|{{default c "-"}}|{{default d "-"}}', {
        a: null,
        c: "",
        d: 0,
      }),
      "-|-|-|0",
    );
  });

  it("eq compares strictly, for if blocks", () => {
    assert.equal(text('{{#if (eq type "bounce")}}red{{else}}grey{{/if}}', { type: "bounce" }), "red");
    assert.equal(text("{{eq n 1}}|{{eq n '1'}}", { n: 1 }), "true|false");
  });

  it("upper and lower", () => {
    assert.equal(
      text("{{upper s}} {{lower s}} {{upper n}} {{upper missing}}", { s: "MiXed", n: 5 }),
      "MIXED mixed 5 ",
    );
  });

  it("join lists, formats addresses and plucks a key", () => {
    const to = [{ name: "Ada", address: "ada@x" }, { name: "", address: "b@x" }, { address: "c@x" }];
    assert.equal(text("{{join to}}", { to }), "Ada <ada@x>, b@x, c@x");
    assert.equal(text('{{join to " | " key="address"}}', { to }), "ada@x | b@x | c@x");
    assert.equal(text('{{join l "-"}}', { l: [1, "two", null, { a: 1 }] }), '1-two--{"a":1}');
    assert.equal(text("{{join s}}", { s: "not a list" }), "not a list");
    assert.equal(text('{{join to key="constructor"}}', { to }), ", , ");
  });

  it("date formats ISO strings and unix seconds or milliseconds", () => {
    const payload = { iso: "2024-10-11T17:21:40Z", secs: 1728669700, ms: 1728669700000 };
    assert.equal(text("{{date iso}}", payload), "2024-10-11T17:21:40.000Z");
    assert.equal(text('{{date secs "date"}} {{date ms "time"}}', payload), "2024-10-11 18:01:40");
    assert.equal(text('{{date iso "datetime"}}', payload), "2024-10-11 17:21 UTC");
    assert.equal(text('{{date iso "unix"}} {{date secs "unixMs"}}', payload), "1728667300 1728669700000");
    assert.equal(text("[{{date nope}}] [{{date 'yesterday'}}]", payload), "[] []");
  });

  it("date refuses an unknown format", () => {
    assert.throws(() => text('{{date iso "%Y"}}', { iso: "2024-01-01" }), /date format must be one of/);
  });

  it("json writes JSON that stays valid inside a JSON body", () => {
    assert.deepEqual(json("{{json this}}", { a: ["\u2028", null] }), { a: ["\u2028", null] });
  });
});
