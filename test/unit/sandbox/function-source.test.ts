import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkFunctionSource,
  positionProblem,
  prepareFunctionSource,
} from "../../../src/sandbox/function-source.ts";

function prepared(source: string) {
  const result = prepareFunctionSource(source);
  assert.ok(result.ok, `expected ${JSON.stringify(source)} to compile: ${JSON.stringify(result)}`);
  return result.source;
}

describe("format detection", () => {
  it("treats sources with export default as modules, unchanged", () => {
    for (const source of [
      'export default (event) => event.data.subject.includes("invoice")',
      "export default function (event) {\n  return event.type === 'x';\n}",
      "export default async (e) => {\n  await null;\n  return true;\n}",
      "const f = (e) => e.type;\nexport { f as default };",
      "// a filter\n\nexport   default (e) => true",
    ]) {
      const s = prepared(source);
      assert.equal(s.format, "module", source);
      assert.equal(s.code, source);
      assert.equal(s.lineOffset, 0);
    }
  });

  it("wraps a function body with payload and event in scope, one line before the user's first line", () => {
    const s = prepared('if (payload.type !== "messageNew") return false;\nreturn true;');
    assert.equal(s.format, "body");
    assert.equal(s.lineOffset, 1);
    const lines = s.code.split("\n");
    assert.match(
      lines[0] ?? "",
      /^export default function \(event\) \{ return __hookgateBody\(.*event\.data.*\); function __hookgateBody\(payload\) \{$/,
    );
    assert.deepEqual(lines.slice(1), [
      'if (payload.type !== "messageNew") return false;',
      "return true;",
      "} }",
    ]);
  });

  it("makes the inner function async when the body awaits", () => {
    const s = prepared("const x = await Promise.resolve(payload.data);\nreturn x;");
    assert.equal(s.format, "body");
    assert.ok(s.code.split("\n")[0]?.endsWith(" async function __hookgateBody(payload) {"));
  });

  it("lets a body declare its own event, as an EmailEngine function may", () => {
    assert.equal(prepared("const event = payload.event;\nreturn event === 'messageNew';").format, "body");
  });

  it("keeps a body that only mentions export default inside a string or comment", () => {
    const s = prepared('// not an "export default" module\nreturn payload.data === "export default";');
    assert.equal(s.format, "body");
  });

  it("lets a trailing line comment in a body end before the wrapper closes", () => {
    assert.equal(prepared("return true // done").format, "body");
  });
});

describe("checkFunctionSource", () => {
  it("returns null for valid sources of both formats", () => {
    assert.equal(checkFunctionSource("export default (e) => e.type === 'messageNew'"), null);
    assert.equal(checkFunctionSource("return payload.type === 'messageNew'"), null);
    assert.equal(checkFunctionSource("export default async function (e) { return await e; }"), null);
  });

  it("only compiles: top-level code that would never finish is not run", () => {
    assert.equal(checkFunctionSource("while (true) {}\nexport default () => true"), null);
    assert.equal(checkFunctionSource("while (true) {}\nreturn true"), null);
  });

  it("positions module syntax errors in the user's source (1-based)", () => {
    assert.deepEqual(checkFunctionSource("export default (e) => {\n  return )\n}"), {
      message: "Unexpected token ')'",
      line: 2,
      column: 10,
    });
  });

  it("positions body syntax errors in the user's source, without the wrapper line", () => {
    assert.deepEqual(checkFunctionSource("if (payload) {\n  return )\n}"), {
      message: "Unexpected token ')'",
      line: 2,
      column: 10,
    });
    assert.deepEqual(checkFunctionSource("return )"), {
      message: "Unexpected token ')'",
      line: 1,
      column: 8,
    });
  });

  it("clamps an error in the wrapper's closing line to the end of the user's source", () => {
    const problem = checkFunctionSource("if (payload) {\n  return 1");
    assert.ok(problem);
    assert.equal(problem.message, "Unexpected end of input");
    assert.equal(problem.line, 2);
    assert.equal(problem.column, "  return 1".length + 1);
  });

  it("rejects imports, with the position of the specifier", () => {
    const problem = checkFunctionSource('const x = 1;\nimport fs from "node:fs";\nexport default () => fs');
    assert.ok(problem);
    assert.match(problem.message, /Imports are not allowed.*node:fs/);
    assert.equal(problem.line, 2);
    assert.equal(problem.column, 16);
  });

  it("rejects a module without a default export", () => {
    const problem = checkFunctionSource("export const filter = () => true; // export default");
    assert.ok(problem);
    assert.match(problem.message, /no default export/);
  });

  it("reports a module's own error when export default starts a line", () => {
    const problem = checkFunctionSource("export default (e) =>\n  e.type ===");
    assert.ok(problem);
    assert.equal(problem.line, 2);
  });
});

describe("positionProblem", () => {
  const shape = { lineOffset: 1, userLines: 3, lastLineLength: 4 };

  it("subtracts the wrapper offset", () => {
    assert.deepEqual(positionProblem("Unexpected identifier 'x' [f.js:3:5]", shape), {
      message: "Unexpected identifier 'x'",
      line: 2,
      column: 5,
    });
  });

  it("falls back to line 1, column 1 without a position", () => {
    assert.deepEqual(positionProblem("something odd", shape), {
      message: "something odd",
      line: 1,
      column: 1,
    });
  });

  it("clamps positions before and after the user's source", () => {
    assert.deepEqual(positionProblem("x [f.js:1:30]", shape), { message: "x", line: 1, column: 1 });
    assert.deepEqual(positionProblem("x [f.js:5:1]", shape), { message: "x", line: 3, column: 5 });
  });
});
