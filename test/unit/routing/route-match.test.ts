import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { globMatches } from "../../../src/routing/index.ts";

/** The glob semantics the README gives, written as the regex they used to be compiled to. */
function referenceRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}

describe("event type globs", () => {
  const cases: [string, string, boolean][] = [
    ["*", "messageNew", true],
    ["*", "", true],
    ["message*", "messageNew", true],
    ["message*", "message", true],
    ["message*", "newMessage", false],
    ["*.bounce", "message-ingest.bounce", true],
    ["message-ingest.?am", "message-ingest.ham", true],
    ["message-ingest.?am", "message-ingest.spam", false],
    ["a.b", "axb", false],
    ["(x)+", "(x)+", true],
    ["bounce", "Bounce", false],
    ["a*b*c", "a-b-b-c", true],
    ["a*b", "a\nb", true],
    ["?", "", false],
    ["a?", "a*", true],
  ];
  for (const [glob, type, expected] of cases) {
    it(`${JSON.stringify(glob)} ${expected ? "matches" : "does not match"} ${JSON.stringify(type)}`, () => {
      assert.equal(globMatches(glob, type), expected);
      assert.equal(referenceRegExp(glob).test(type), expected);
    });
  }

  // A backtracking regex takes seconds for the first and far longer for the second; the test
  // finishing at all shows the matcher does not (no timing threshold needed).
  it("refuses the issue's catastrophic patterns without backtracking", () => {
    assert.equal(globMatches("a*a*a*a*a*a*b", "a".repeat(100)), false);
    assert.equal(globMatches(`${"a*".repeat(20)}b`, "a".repeat(10_000)), false);
    assert.equal(globMatches(`${"a*".repeat(20)}b`, `${"a".repeat(10_000)}b`), true);
    assert.equal(globMatches(`${"*a".repeat(20)}*?b`, "a".repeat(10_000)), false);
  });

  it("agrees with the reference regex on short inputs", () => {
    // Wildcards and regex metacharacters appear in types too, and a surrogate pair counts as two.
    const unit = fc.constantFrom("a", "b", ".", "\n", "*", "?", "+", "😀");
    fc.assert(
      fc.property(
        fc.string({ unit, maxLength: 8 }),
        fc.string({ unit, maxLength: 10 }),
        (glob, type) => globMatches(glob, type) === referenceRegExp(glob).test(type),
      ),
      { numRuns: 20_000 },
    );
  });
});
