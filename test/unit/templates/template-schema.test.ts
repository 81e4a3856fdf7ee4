import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_TEMPLATE_BYTES, TemplateSchema } from "../../../src/templates/index.ts";

describe("TemplateSchema", () => {
  it("accepts each kind", () => {
    assert.deepEqual(TemplateSchema.parse({ kind: "slack" }), { kind: "slack" });
    assert.deepEqual(TemplateSchema.parse({ kind: "slack", body: "{}" }), { kind: "slack", body: "{}" });
    assert.deepEqual(TemplateSchema.parse({ kind: "discord", allowMentions: true }), {
      kind: "discord",
      allowMentions: true,
    });
    assert.deepEqual(TemplateSchema.parse({ kind: "json", body: "{}" }), { kind: "json", body: "{}" });
  });

  it("defaults the text content type and accepts a custom one", () => {
    assert.deepEqual(TemplateSchema.parse({ kind: "text", body: "x" }), {
      kind: "text",
      body: "x",
      contentType: "text/plain; charset=utf-8",
    });
    assert.equal(
      TemplateSchema.parse({ kind: "text", body: "x", contentType: "application/xml; charset=utf-8" }).kind,
      "text",
    );
  });

  it("refuses unknown kinds, unknown keys, missing bodies and empty bodies", () => {
    for (const bad of [
      { kind: "teams", body: "x" },
      { kind: "slack", extra: 1 },
      { kind: "json" },
      { kind: "text", body: "" },
      { kind: "json", body: "x", contentType: "text/plain" },
      { kind: "slack", allowMentions: true },
      { body: "x" },
    ]) {
      assert.equal(TemplateSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  it("refuses a content type that could smuggle a header", () => {
    for (const contentType of ["text/plain\r\nX-Evil: 1", "text/plain; a=\n", "plain", "", "text/plain; é"]) {
      assert.equal(
        TemplateSchema.safeParse({ kind: "text", body: "x", contentType }).success,
        false,
        contentType,
      );
    }
  });

  it(`refuses a body over ${MAX_TEMPLATE_BYTES} bytes`, () => {
    assert.equal(
      TemplateSchema.safeParse({ kind: "json", body: "x".repeat(MAX_TEMPLATE_BYTES) }).success,
      true,
    );
    assert.equal(
      TemplateSchema.safeParse({ kind: "json", body: "é".repeat(MAX_TEMPLATE_BYTES / 2 + 1) }).success,
      false,
    );
  });
});
