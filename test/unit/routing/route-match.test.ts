import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { globToRegExp } from "../../../src/routing/index.ts";

describe("event type globs", () => {
  const cases: [string, string, boolean][] = [
    ["*", "messageNew", true],
    ["message*", "messageNew", true],
    ["message*", "message", true],
    ["message*", "newMessage", false],
    ["*.bounce", "message-ingest.bounce", true],
    ["message-ingest.?am", "message-ingest.ham", true],
    ["message-ingest.?am", "message-ingest.spam", false],
    ["a.b", "axb", false],
    ["(x)+", "(x)+", true],
    ["bounce", "Bounce", false],
  ];
  for (const [glob, type, expected] of cases) {
    it(`${glob} ${expected ? "matches" : "does not match"} ${type}`, () => {
      assert.equal(globToRegExp(glob).test(type), expected);
    });
  }
});
