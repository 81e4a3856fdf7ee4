import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from "../../../src/shared/json-depth.ts";

const bytes = (text: string) => Buffer.from(text, "utf8");
const nested = (levels: number, inner = "1") => `${"[".repeat(levels)}${inner}${"]".repeat(levels)}`;

/** The depth of a parsed value, the outermost object or array counting as 1. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

describe("JSON nesting limit", () => {
  it("takes the limit and refuses one level more", () => {
    assert.equal(jsonNestsDeeperThan(bytes(nested(MAX_JSON_DEPTH))), false);
    assert.equal(jsonNestsDeeperThan(bytes(nested(MAX_JSON_DEPTH + 1))), true);
    assert.equal(jsonNestsDeeperThan(bytes(`{"a":${nested(MAX_JSON_DEPTH)}}`)), true);
  });

  it("counts levels, not brackets: siblings do not add up", () => {
    const wide = `[${Array.from({ length: 1000 }, () => nested(10)).join(",")}]`;
    assert.equal(jsonNestsDeeperThan(bytes(wide)), false);
  });

  it("ignores brackets inside strings, escaped quotes included", () => {
    const text = JSON.stringify({ s: "[".repeat(500), t: '\\"{{{{', u: `"${"{".repeat(200)}"` });
    assert.equal(jsonNestsDeeperThan(bytes(text)), false);
    assert.equal(jsonNestsDeeperThan(bytes(JSON.stringify({ k: "é😀[" }))), false);
  });

  it("reads 100,000 levels without recursion", () => {
    assert.equal(jsonNestsDeeperThan(bytes(nested(100_000))), true);
    assert.equal(jsonNestsDeeperThan(bytes(`${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`)), true);
  });

  it("agrees with the depth of the parsed value", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 9 }), (value, limit) => {
        const text = JSON.stringify(value);
        return jsonNestsDeeperThan(bytes(text), limit) === depthOf(value) > limit;
      }),
      { numRuns: 2000 },
    );
  });
});
