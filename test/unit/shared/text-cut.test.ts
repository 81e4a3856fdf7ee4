import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cutText, ELLIPSIS } from "../../../src/shared/text-cut.ts";

/** True when the string has no lone surrogate (a split pair). */
function wellFormed(text: string): boolean {
  return text.isWellFormed();
}

describe("cutText", () => {
  it("returns text that fits unchanged", () => {
    assert.equal(cutText("hello", 5), "hello");
    assert.equal(cutText("", 0), "");
  });

  it("cuts to exactly the limit including the ellipsis", () => {
    const out = cutText("abcdefghij", 5);
    assert.equal(out, `abcd${ELLIPSIS}`);
    assert.equal(out.length, 5);
  });

  it("keeps nothing but the ellipsis at limit 1 and nothing at limit 0", () => {
    assert.equal(cutText("abc", 1), ELLIPSIS);
    assert.equal(cutText("abc", 0), "");
  });

  it("never splits a surrogate pair, whatever the cut point", () => {
    const text = "😀".repeat(50);
    for (let max = 1; max < text.length; max++) {
      const out = cutText(text, max);
      assert.ok(out.length <= max, `length ${out.length} > ${max}`);
      assert.ok(wellFormed(out), `split pair at ${max}`);
    }
  });

  it("keeps an emoji with a skin-tone modifier and a flag whole", () => {
    const thumbs = "👍🏽"; // 4 UTF-16 units, one grapheme
    const flag = "🇫🇷"; // two regional indicators, one grapheme
    const text = `ab${thumbs}${flag}cd`;
    for (let max = 1; max < text.length; max++) {
      const kept = cutText(text, max).slice(0, -1);
      assert.ok(wellFormed(kept));
      assert.ok(
        ["", "a", "ab", `ab${thumbs}`, `ab${thumbs}${flag}`, `ab${thumbs}${flag}c`].includes(kept),
        `cut inside a cluster at ${max}: ${JSON.stringify(kept)}`,
      );
    }
  });

  it("lets a format move the cut earlier", () => {
    assert.equal(
      cutText("abc&amp;def", 6, (text, end) => text.lastIndexOf("&", end)),
      `abc${ELLIPSIS}`,
    );
  });
});
