import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkTemplate, renderBody, TemplateSyntaxError } from "../../../src/templates/index.ts";
import { separateClosingBraces } from "../../../src/templates/json-braces.ts";

const render = (body: string, payload: unknown) =>
  renderBody({ kind: "json", body }, payload, "braces@1").body;

describe("separateClosingBraces", () => {
  it("separates a } that follows the end of an expression", () => {
    assert.equal(separateClosingBraces('{"a": {{json x}}}').source, '{"a": {{json x}}{{!}}}');
    assert.equal(separateClosingBraces('{"a": {"b": {{x}}}}').source, '{"a": {"b": {{x}}{{!}}}}');
  });

  it("leaves triple-stash, comments, strings, escapes and raw blocks alone", () => {
    for (const source of [
      "{{{x}}}",
      "{{!-- }}} --}}",
      "{{! a }}",
      '{{default x "}}}"}}',
      "\\{{x}}}",
      "{{{{raw}}}} {{x}}} {{{{/raw}}}}",
      "no expressions }}}",
    ]) {
      assert.equal(separateClosingBraces(source).source, source, source);
    }
  });

  it("maps positions after an inserted separator back to the template as written", () => {
    const rewrite = separateClosingBraces('{"a": {{x}}}, "b": {{y}}}');
    // In the rewritten source `{{y` starts 5 characters later than in the original.
    const original = '{"a": {{x}}}, "b": {{y}}}';
    const rewritten = rewrite.source;
    const col = rewritten.indexOf("{{y") + 1;
    assert.deepEqual(rewrite.toOriginal(1, col), { line: 1, column: original.indexOf("{{y") + 1 });
    assert.deepEqual(rewrite.toOriginal(1, 3), { line: 1, column: 3 });
  });
});

describe("JSON templates that close an object right after an expression", () => {
  it("render as intended", () => {
    assert.deepEqual(JSON.parse(render('{"a": {{json x}}}', { x: [1] })), { a: [1] });
    assert.deepEqual(JSON.parse(render('{"a": {"b": "{{x}}"}}', { x: "}" })), { a: { b: "}" } });
    assert.deepEqual(JSON.parse(render('{"a": {"b": {{json x}}}}', { x: "q" })), { a: { b: "q" } });
  });

  it("report errors at the position in the template as written", () => {
    try {
      checkTemplate({ kind: "json", body: '{"a": {{json x}}},\n "b": {{json x}}}, "c": {{nope y}}}' });
      assert.fail("compiled");
    } catch (error) {
      assert.ok(error instanceof TemplateSyntaxError);
      assert.deepEqual([error.line, error.column], [2, 27]);
    }
  });
});
