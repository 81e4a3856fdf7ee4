import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { changes, type DiffLine, lineDiff, linesOf } from "../../../web/playground/src/line-diff.ts";

const show = (diff: DiffLine[]) =>
  diff.map((l) => `${l.kind === "same" ? " " : l.kind === "added" ? "+" : "-"}${l.text}`);

describe("line diff", () => {
  it("splits a function into lines: none for null or empty, no extra line for a final newline", () => {
    assert.deepEqual(linesOf(null), []);
    assert.deepEqual(linesOf(""), []);
    assert.deepEqual(linesOf("a\nb\n"), ["a", "b"]);
    assert.deepEqual(linesOf("a\n\nb"), ["a", "", "b"]);
  });

  it("keeps equal texts as they are", () => {
    const diff = lineDiff("a\nb", "a\nb\n");
    assert.deepEqual(show(diff), [" a", " b"]);
    assert.equal(changes(diff), false);
  });

  it("shows a changed line as removed then added, between the lines both keep", () => {
    const before = "export default (event) => {\n  return event.type === 'a';\n};";
    const after = "export default (event) => {\n  return event.type === 'b';\n};";
    const diff = lineDiff(before, after);
    assert.deepEqual(show(diff), [
      " export default (event) => {",
      "-  return event.type === 'a';",
      "+  return event.type === 'b';",
      " };",
    ]);
    assert.equal(changes(diff), true);
  });

  it("finds the longest common run of lines, not just common ends", () => {
    assert.deepEqual(show(lineDiff("x\na\nb\nc\ny", "a\nz\nb\nc\nw")), [
      "-x",
      " a",
      "+z",
      " b",
      " c",
      "-y",
      "+w",
    ]);
  });

  it("diffs against no function at all", () => {
    assert.deepEqual(show(lineDiff(null, "a\nb")), ["+a", "+b"]);
    assert.deepEqual(show(lineDiff("a", null)), ["-a"]);
    assert.deepEqual(lineDiff(null, null), []);
  });

  it("keeps repeated lines in order: each side reads back from the diff, with the fewest edits", () => {
    const before = "a\na\nb\nc\na";
    const after = "a\nb\nb\na\nc";
    const diff = lineDiff(before, after);
    assert.deepEqual(
      diff.filter((l) => l.kind !== "added").map((l) => l.text),
      linesOf(before),
    );
    assert.deepEqual(
      diff.filter((l) => l.kind !== "removed").map((l) => l.text),
      linesOf(after),
    );
    // The longest common subsequence is a, b, c (or a, b, a): 3 of 5 lines kept on each side.
    assert.equal(diff.filter((l) => l.kind === "same").length, 3);
  });
});
