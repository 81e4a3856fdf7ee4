import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Handlebars from "handlebars";
import {
  compileTemplate,
  escapeJsonString,
  MAX_BLOCK_DEPTH,
  TEMPLATE_CACHE_ENTRIES,
  templateCache,
} from "../../../src/templates/handlebars-env.ts";
import {
  checkTemplate,
  MAX_OUTPUT_BYTES,
  MAX_TEMPLATE_BYTES,
  renderBody,
  type Template,
  TemplateRenderError,
  TemplateSyntaxError,
} from "../../../src/templates/index.ts";

const json = (body: string): Template => ({ kind: "json", body });
const text = (body: string): Template => ({ kind: "text", body });

function renderJson(body: string, payload: unknown): unknown {
  return JSON.parse(renderBody(json(body), payload, "test@1").body);
}

function renderText(body: string, payload: unknown): string {
  return renderBody(text(body), payload, "test@1").body;
}

function syntaxError(template: Template): TemplateSyntaxError {
  try {
    checkTemplate(template);
  } catch (error) {
    assert.ok(error instanceof TemplateSyntaxError, `expected TemplateSyntaxError, got ${String(error)}`);
    return error;
  }
  assert.fail("the template compiled");
}

const TRICKY = [
  'quote " and \\" escaped',
  "backslash \\ and \\\\ and trailing \\",
  "new\nline\r\nand\ttab",
  "controls \u0000\u0001\u001f\u007f",
  "separators \u2028 and \u2029",
  "emoji 😀 and 👍🏽 and 🇫🇷",
  "lone surrogate \ud800 end",
  "html <b>&amp;</b> 'apos'",
  "}} {{ json",
];

describe("JSON templates: {{x}} is escaped as JSON string content", () => {
  for (const value of TRICKY) {
    it(`round-trips ${JSON.stringify(value).slice(0, 40)}`, () => {
      const out = renderJson('{"v": "{{v}}", "w": "<{{{v}}}>"}', { v: value }) as { v: string; w: string };
      assert.equal(out.v, value.isWellFormed() ? value : value.toWellFormed().replace("\ufffd", "\ud800"));
      assert.equal(out.w, `<${out.v}>`);
    });
  }

  it("never writes HTML entities", () => {
    const body = renderBody(json('{"v": "{{v}}"}'), { v: "<a href='x'>&</a>" }, "t@1").body;
    assert.equal(body, `{"v": "<a href='x'>&</a>"}`);
  });

  it("escapes U+2028 and U+2029 even though JSON allows them raw", () => {
    const body = renderBody(json('{"v": "{{v}}"}'), { v: "a\u2028b\u2029c" }, "t@1").body;
    assert.equal(body, '{"v": "a\\u2028b\\u2029c"}');
  });

  it("prints numbers and booleans bare, objects as JSON text, null and missing as nothing", () => {
    const out = renderJson('{"n": {{n}}, "b": {{b}}, "o": "{{o}}", "z": "{{z}}", "m": "{{missing.deep}}"}', {
      n: 1.5,
      b: true,
      o: { a: [1, "x"] },
      z: null,
    });
    assert.deepEqual(out, { n: 1.5, b: true, o: '{"a":[1,"x"]}', z: "", m: "" });
  });

  it("cannot be escaped out of: a value cannot inject keys", () => {
    const out = renderJson('{"subject": "{{s}}", "admin": false}', { s: '", "admin": true, "x": "' });
    assert.deepEqual(out, { subject: '", "admin": true, "x": "', admin: false });
  });

  it("escapeJsonString leaves no character that would end or break a JSON string", () => {
    for (let code = 0; code < 0x80; code++) {
      const ch = String.fromCharCode(code);
      assert.equal(JSON.parse(`"${escapeJsonString(ch)}"`), ch);
    }
  });
});

describe("{{json x}} writes any value as JSON", () => {
  it("writes objects, arrays, strings, numbers, null and missing values", () => {
    const payload = { o: { a: 1, s: 'q"\\\n\u2028' }, l: [1, "two", null], s: 'he said "hi"', n: 0 };
    const out = renderJson(
      '{"o": {{json o}}, "l": {{json l}}, "s": {{json s}}, "n": {{json n}}, "u": {{json nope}}}',
      payload,
    );
    assert.deepEqual(out, { ...payload, u: null });
  });

  it("is not escaped again inside triple braces", () => {
    assert.deepEqual(renderJson("{{{json this}}}", { a: "<&>" }), { a: "<&>" });
  });

  it("writes JSON text in text bodies too", () => {
    assert.equal(renderText("{{json this}}", { a: "x\ny" }), '{"a":"x\\ny"}');
  });
});

describe("text templates write values as they are", () => {
  it("no HTML or JSON escaping", () => {
    const value = `<b>"&'</b>\\\n😀`;
    assert.equal(renderText("[{{v}}] [{{{v}}}]", { v: value }), `[${value}] [${value}]`);
  });

  it("uses the configured content type, text/plain by default", () => {
    assert.equal(renderBody(text("x"), {}, "t@1").contentType, "text/plain; charset=utf-8");
    const csv: Template = { kind: "text", body: "a,b", contentType: "text/csv" };
    assert.equal(renderBody(csv, {}, "t@1").contentType, "text/csv");
  });

  it("supports the built-in blocks with @index, else and block params", () => {
    const out = renderText(
      "{{#each list as |item i|}}{{i}}={{item}}{{#unless @last}},{{/unless}}{{else}}none{{/each}}|{{#with o}}{{a}}{{/with}}|{{#if f}}y{{else if g}}g{{else}}n{{/if}}|{{#list}}<{{this}}>{{/list}}",
      { list: ["a", "b"], o: { a: 1 }, g: true },
    );
    assert.equal(out, "0=a,1=b|1|g|<a><b>");
  });
});

describe("rendered JSON must parse", () => {
  it("a value outside quotes that is not JSON fails with a clear error naming the kind", () => {
    assert.throws(
      () => renderBody(json('{"subject": {{s}}}'), { s: "hello" }, "t@1"),
      (error: unknown) =>
        error instanceof TemplateRenderError &&
        error.code === "HG_ERR_TEMPLATE_RENDER" &&
        error.templateKind === "json" &&
        /^json template: the rendered body is not valid JSON/.test(error.message),
    );
  });

  it("an empty value outside quotes fails too", () => {
    assert.throws(() => renderBody(json('{"n": {{missing}}}'), {}, "t@1"), TemplateRenderError);
  });

  it("slack and discord bodies name their kind", () => {
    assert.throws(
      () => renderBody({ kind: "slack", body: "{nope" }, {}, "t@1"),
      (e: unknown) => e instanceof TemplateRenderError && e.message.startsWith("slack template:"),
    );
    assert.throws(
      () => renderBody({ kind: "discord", body: '["not", "an object"]' }, {}, "t@1"),
      (e: unknown) => e instanceof TemplateRenderError && /discord template: .*JSON object/.test(e.message),
    );
  });
});

describe("templates that cannot compile", () => {
  it("an unclosed mustache: line and column of the bad token", () => {
    const error = syntaxError(json('{\n  "a": "{{x}"\n}'));
    assert.equal(error.code, "HG_ERR_TEMPLATE_SYNTAX");
    assert.equal(error.line, 2);
    assert.equal(error.column, 12);
    assert.match(error.message, /^json template does not compile at line 2, column 12: /);
  });

  it("a block closed by the wrong name", () => {
    const error = syntaxError(text("one\ntwo {{#if x}}\n{{/each}}"));
    assert.equal(error.line, 2);
    assert.match(error.reason, /if doesn't match each/);
  });

  it("an unterminated comment", () => {
    const error = syntaxError(text("ab\ncd {{!-- never closed"));
    assert.equal(error.line, 2);
    assert.equal(error.column, 4);
  });

  it("an unknown helper is refused at compile time, with the helpers that exist", () => {
    const error = syntaxError(json('{\n "a": {{shell "rm -rf /"}}}'));
    assert.deepEqual([error.line, error.column], [2, 9]);
    assert.match(
      error.reason,
      /unknown helper "shell"; available helpers: date, default, each, eq, escapeMrkdwn/,
    );
    assert.match(syntaxError(json('"{{upper (exec x)}}"')).reason, /unknown helper "exec"/);
    assert.match(syntaxError(json("{{#loop items}}{{/loop}}")).reason, /unknown helper "loop"/);
    assert.match(syntaxError(json('{{a.b "x"}}')).reason, /unknown helper "a.b"/);
  });

  it("log, helperMissing and blockHelperMissing cannot be called", () => {
    for (const name of ["log", "helperMissing", "blockHelperMissing"]) {
      assert.match(syntaxError(text(`{{${name} "x"}}`)).reason, new RegExp(`unknown helper "${name}"`));
    }
  });

  it("partials and decorators are refused", () => {
    assert.match(syntaxError(text("{{> userPartial}}")).reason, /partials/);
    assert.match(syntaxError(text("{{#> layout}}x{{/layout}}")).reason, /partials/);
    assert.match(syntaxError(text('{{#*inline "p"}}x{{/inline}}')).reason, /decorators/);
    assert.match(syntaxError(text("{{* deco}}")).reason, /decorators/);
  });

  it("the reserved output helper cannot be named", () => {
    assert.match(syntaxError(text("{{__hookgateOutput x}}")).reason, /reserved/);
    assert.match(syntaxError(text("{{__hookgateOutput}}")).reason, /reserved/);
  });

  it(`blocks nested deeper than ${MAX_BLOCK_DEPTH} are refused; else-if chains are not nesting`, () => {
    const deep = (n: number) => `${"{{#if a}}".repeat(n)}x${"{{/if}}".repeat(n)}`;
    checkTemplate(text(deep(MAX_BLOCK_DEPTH)));
    assert.match(syntaxError(text(deep(MAX_BLOCK_DEPTH + 1))).reason, /nested deeper/);
    const chain = `{{#if a}}a${Array.from({ length: 40 }, (_, i) => `{{else if b${i}}}${i}`).join("")}{{/if}}`;
    checkTemplate(text(chain));
  });

  it(`a template over ${MAX_TEMPLATE_BYTES} bytes is refused`, () => {
    checkTemplate(text("x".repeat(MAX_TEMPLATE_BYTES)));
    const error = syntaxError(text("é".repeat(MAX_TEMPLATE_BYTES / 2 + 1)));
    assert.match(error.reason, /65538 bytes; the limit is 65536/);
  });

  it("json and text kinds need a body; slack and discord do not", () => {
    assert.match(syntaxError({ kind: "json" } as unknown as Template).reason, /body is required/);
    checkTemplate({ kind: "slack" });
    checkTemplate({ kind: "discord", allowMentions: true });
  });

  it("renderBody reports a body that does not compile as a render error", () => {
    assert.throws(
      () => renderBody(json("{{#if}}"), {}, "t@1"),
      (e: unknown) => e instanceof TemplateRenderError && e.cause instanceof TemplateSyntaxError,
    );
  });
});

describe("no prototype access", () => {
  const probes = [
    "{{constructor}}",
    "{{constructor.constructor}}",
    "{{constructor.name}}",
    "{{__proto__}}",
    "{{__proto__.constructor}}",
    '{{lookup this "constructor"}}',
    '{{lookup (lookup this "constructor") "constructor"}}',
    "{{data.constructor.constructor}}",
    "{{data.toString}}",
    "{{data.hasOwnProperty}}",
    "{{#with constructor}}{{name}}{{/with}}",
    "{{#each __proto__}}{{@key}}{{/each}}",
    '{{json (lookup data "__proto__")}}',
  ];
  for (const probe of probes) {
    it(`${probe} reads nothing`, () => {
      const out = renderText(probe, { data: { a: 1 }, s: "str", list: [1, 2] });
      assert.ok(out === "" || out === "null", `${probe} rendered ${JSON.stringify(out)}`);
    });
  }

  it("does not touch the global Handlebars instance", () => {
    assert.equal(Handlebars.helpers.json, undefined);
    assert.equal(Handlebars.helpers.escapeMrkdwn, undefined);
    assert.equal(typeof Handlebars.helpers.log, "function");
    assert.equal(Handlebars.escapeExpression("<"), "&lt;");
  });

  it("own data named like prototype members is still data", () => {
    assert.equal(
      renderText(
        "{{constructor}}|{{o.__proto__}}",
        JSON.parse('{"constructor": "c", "o": {"__proto__": "p"}}'),
      ),
      "c|p",
    );
  });
});

describe("output cap", () => {
  it(`a body over ${MAX_OUTPUT_BYTES} bytes is refused`, () => {
    const big = "x".repeat(MAX_OUTPUT_BYTES);
    assert.equal(renderText("{{v}}", { v: big }).length, MAX_OUTPUT_BYTES);
    assert.throws(
      () => renderText("{{v}}!", { v: big }),
      (e: unknown) =>
        e instanceof TemplateRenderError && /1048577 bytes; the limit is 1048576/.test(e.message),
    );
  });

  it("counts bytes, not characters", () => {
    assert.throws(
      () => renderText("{{v}}", { v: "é".repeat(MAX_OUTPUT_BYTES / 2 + 1) }),
      TemplateRenderError,
    );
  });

  it("stops nested loops long before they build the whole output", () => {
    const list = Array.from({ length: 2000 }, (_, i) => i);
    assert.throws(
      () => renderText("{{#each l}}{{#each ../l}}{{#each ../../l}}.{{/each}}{{/each}}{{/each}}", { l: list }),
      (e: unknown) => e instanceof TemplateRenderError && /exceeds its work budget/.test(e.message),
    );
  });

  it("stops loops that print nothing but iterate without end", () => {
    const list = Array.from({ length: 5000 }, (_, i) => i);
    assert.throws(
      () => renderText("{{#each l}}{{#each ../l}}{{/each}}{{/each}}", { l: list }),
      TemplateRenderError,
    );
  });

  it("stops a template that repeats a large value", () => {
    const value = "v".repeat(300_000);
    assert.throws(() => renderText("{{v}}{{v}}{{v}}{{v}}", { v: value }), TemplateRenderError);
  });
});

describe("helper work is charged to the render budget", () => {
  const overBudget = (e: unknown) =>
    e instanceof TemplateRenderError &&
    e.code === "HG_ERR_TEMPLATE_RENDER" &&
    /text template: the render exceeds its work budget/.test(e.message);
  const empties = { data: { x: Array.from({ length: 10_000 }, () => ({})) } };

  // These wrote nothing and took seconds each; finishing at all shows they stop early.
  it("stops a helper that reads the whole list inside a loop over it (issue 16)", () => {
    assert.throws(
      () => renderText("{{#each data.x}}{{join @root.data.x '' key='k'}}{{/each}}", empties),
      overBudget,
    );
  });

  it("charges helpers whose result is never written, and serialising for them", () => {
    assert.throws(
      () => renderText("{{#each data.x}}{{#if (json @root.data.x)}}{{/if}}{{/each}}", empties),
      overBudget,
    );
    assert.throws(
      () => renderText("{{#each data.x}}{{truncate @root.data 1}}{{/each}}", empties),
      overBudget,
      "truncate prints one character of a 30 kB serialisation",
    );
  });

  it("charges the built-in block helpers per call", () => {
    const l = Array.from({ length: 5000 }, (_, i) => i);
    for (const block of ["{{#with this}}{{/with}}", "{{#if this}}{{/if}}", "{{#unless this}}{{/unless}}"]) {
      assert.throws(
        () => renderText(`{{#each l}}{{#each ../l}}${block}{{/each}}{{/each}}`, { l }),
        overBudget,
        block,
      );
    }
  });

  it("still renders templates that do real work on large events", () => {
    const to = Array.from({ length: 10_000 }, (_, i) => ({ name: `N${i}`, address: `u${i}@example.com` }));
    const joined = renderText("{{join data.to ', '}}", { data: { to } });
    assert.ok(joined.startsWith("N0 <u0@example.com>, N1 <u1@example.com>"));
    const listed = renderText("{{#each data.to}}{{#if name}}{{upper name}}{{/if}} {{address}};{{/each}}", {
      data: { to },
    });
    assert.equal(listed.split(";").length, 10_001);
    const nested = renderJson('{"n": [{{#each l}}{{#unless @first}},{{/unless}}{{join ../l}}{{/each}}]}', {
      l: Array.from({ length: 50 }, () => 1),
    });
    assert.equal((nested as { n: number[] }).n.length, 50 * 50);
  });
});

describe("compiled template cache", () => {
  it("compiles once per key and recompiles when the source under a key changes", () => {
    templateCache.clear();
    assert.equal(renderBody(text("a{{x}}"), { x: 1 }, "rte_1@1").body, "a1");
    assert.equal(renderBody(text("a{{x}}"), { x: 2 }, "rte_1@1").body, "a2");
    assert.equal(templateCache.size(), 1);
    assert.equal(renderBody(text("b{{x}}"), { x: 3 }, "rte_1@1").body, "b3");
    assert.equal(templateCache.size(), 1);
    renderBody(json('"{{x}}"'), { x: 4 }, "rte_1@1");
    assert.equal(templateCache.size(), 2, "JSON and text compilations are kept apart");
  });

  it(`holds at most ${TEMPLATE_CACHE_ENTRIES} templates`, () => {
    templateCache.clear();
    for (let i = 0; i < TEMPLATE_CACHE_ENTRIES + 20; i++)
      renderBody(text(`{{x}}${i}`), { x: i }, `rte_${i}@1`);
    assert.equal(templateCache.size(), TEMPLATE_CACHE_ENTRIES);
  });

  it("compileTemplate throws at once, not on first render", () => {
    assert.throws(() => compileTemplate("json", "json", "{{nope x}}"), TemplateSyntaxError);
  });
});
