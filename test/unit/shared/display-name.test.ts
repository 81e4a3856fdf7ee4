import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RouteInSchema, RoutePatchSchema } from "../../../src/routing/index.ts";
import { DisplayNameSchema, escapeUnsafeChars } from "../../../src/shared/display-name.ts";
import { SourceInSchema, SourcePatchSchema } from "../../../src/sources/source-schema.ts";

const SPOOFS = [
  "billing\u0000",
  "in\u202Eliob",
  "a\u202Ab",
  "a\u2066b\u2069",
  "a\u200Fb",
  "a\u061Cb",
  "tab\there",
  "line\nbreak",
  "c1\u0085",
  "del\u007F",
  "sep\u2028x",
];

describe("route and source names", () => {
  it("refuse control and bidirectional characters with a message naming them", () => {
    for (const name of SPOOFS) {
      const parsed = DisplayNameSchema.safeParse(name);
      assert.equal(parsed.success, false, JSON.stringify(name));
      assert.match(parsed.error?.issues[0]?.message ?? "", /control characters.*bidirectional/);
    }
  });

  it("are checked by every schema that takes one", () => {
    const target = { url: "https://example.com/h" };
    for (const name of ["x\u0000", "x\u202E"]) {
      assert.equal(RouteInSchema.safeParse({ name, target }).success, false);
      assert.equal(RoutePatchSchema.safeParse({ name }).success, false);
      assert.equal(SourceInSchema.safeParse({ name, kind: "generic" }).success, false);
      assert.equal(SourcePatchSchema.safeParse({ name }).success, false);
    }
  });

  it("take any other text, other scripts and emoji included", () => {
    for (const name of [
      "invoices → billing",
      "Rechnungen für Buchhaltung",
      "فواتير",
      "請求書 📧",
      "a\u200Db",
    ]) {
      assert.equal(DisplayNameSchema.parse(name), name);
    }
  });

  it("escapes what it refuses, visibly", () => {
    assert.equal(escapeUnsafeChars("in\u202Eliob\u0000"), "in\\u202eliob\\u0000");
  });
});
