/**
 * Handlebars plumbing: two private environments (JSON-safe and raw text), compiling with Hookgate's
 * rules, a bounded cache of compiled templates, and rendering under an output budget.
 *
 * Contract
 * - input: template source (≤ 64 KiB), a payload (JSON data), a cache key (`routeId@version`).
 * - output: the rendered string (≤ 1 MiB).
 * - failures: TemplateSyntaxError (line/column) from compileTemplate; TemplateRenderError from
 *   renderTemplate, including when the template itself does not compile.
 * - never: touches the global Handlebars instance, enables prototype access, registers partials.
 */
import Handlebars from "handlebars";
import { LRUCache } from "lru-cache";
import { TemplateRenderError, TemplateSyntaxError } from "./errors.ts";
import { type AstRules, type ProgramNode, prepareTemplateAst, TemplateRuleError } from "./handlebars-ast.ts";
import { BUILTIN_HELPERS, HELPERS, RawOutput, toText } from "./handlebars-helpers.ts";
import { type BraceRewrite, separateClosingBraces } from "./json-braces.ts";
import { RenderBudgetExceeded, STEP_UNITS, sizeOf, spend, withRenderBudget } from "./render-budget.ts";

export const MAX_TEMPLATE_BYTES = 64 * 1024;
export const MAX_OUTPUT_BYTES = 1024 * 1024;
export const MAX_BLOCK_DEPTH = 16;
export const TEMPLATE_CACHE_ENTRIES = 500;
/** What the cached templates may hold of the heap, as estimated by templateHeapBytes. */
export const TEMPLATE_CACHE_BYTES = 128 * 1024 * 1024;
/**
 * Units of work a render may spend before it is stopped (see render-budget.ts). Nested loops
 * count their output once per level, so this is a multiple of the output cap; it stops
 * `{{#each a}}{{#each a}}…` from building gigabytes before the final size check could run, and
 * a helper that reads a whole list inside a loop over it from working quadratically for seconds.
 */
export const RENDER_WORK_BUDGET = 8 * MAX_OUTPUT_BYTES;

/** How `{{…}}` output is escaped: `json` for JSON string content, `text` for none. */
export type Dialect = "json" | "text";

const OUTPUT_HELPER = "__hookgateOutput";

const RULES: AstRules = {
  helpers: new Set([...BUILTIN_HELPERS, ...Object.keys(HELPERS)]),
  outputHelper: OUTPUT_HELPER,
  maxBlockDepth: MAX_BLOCK_DEPTH,
};

const COMPILE_OPTIONS = {
  knownHelpersOnly: true,
  strict: false,
  // All output goes through OUTPUT_HELPER; Handlebars' HTML escaping must never apply.
  noEscape: true,
} as const;

/** Explicit `false` also keeps Handlebars from logging a warning for every blocked lookup. */
const RUNTIME_OPTIONS: Handlebars.RuntimeOptions = {
  allowProtoPropertiesByDefault: false,
  allowProtoMethodsByDefault: false,
  allowCallsToHelperMissing: false,
};

/** JSON string content without the quotes: quotes, backslashes, control characters, U+2028/9. */
export function escapeJsonString(text: string): string {
  return JSON.stringify(text)
    .slice(1, -1)
    .replace(/[\u2028\u2029]/g, (ch) => (ch === "\u2028" ? "\\u2028" : "\\u2029"));
}

function createEnvironment(dialect: Dialect): typeof Handlebars {
  const hb = Handlebars.create();
  hb.unregisterHelper("log");
  for (const [name, fn] of Object.entries(HELPERS)) {
    hb.registerHelper(name, (...all: unknown[]) => {
      const options = all.pop() as { hash?: Record<string, unknown> } | undefined;
      const hash = options?.hash ?? {};
      // Charged whether or not the result is written: a helper's work in a subexpression or an
      // empty result costs the same. Objects read as JSON are charged where they are serialised.
      let units = STEP_UNITS;
      for (const arg of all) units += sizeOf(arg);
      for (const arg of Object.values(hash)) units += sizeOf(arg);
      spend(units);
      const result = fn(all, hash);
      spend(result instanceof RawOutput ? result.text.length : sizeOf(result));
      return result;
    });
  }
  const originalEach = hb.helpers.each;
  if (!originalEach) throw new Error("Handlebars has no each helper");
  // Sections over arrays (`{{#list}}`) also go through `each`, so this counts every iteration.
  hb.registerHelper("each", function (this: unknown, context: unknown, options: Handlebars.HelperOptions) {
    const fn = options.fn;
    const counted = (item: unknown, runtime?: Handlebars.RuntimeOptions) => {
      const out = fn(item, runtime);
      spend(out.length + STEP_UNITS);
      return out;
    };
    return originalEach.call(this, context, { ...options, fn: counted });
  });
  // The other built-in block helpers cost a step per call, like any helper.
  for (const name of BUILTIN_HELPERS) {
    const original = hb.helpers[name] as ((...args: unknown[]) => unknown) | undefined;
    if (name === "each" || !original) continue;
    hb.registerHelper(name, function (this: unknown, ...args: unknown[]) {
      spend(STEP_UNITS);
      return original.apply(this, args);
    });
  }
  hb.registerHelper(OUTPUT_HELPER, (value: unknown) => {
    const out =
      value instanceof RawOutput
        ? value.text
        : dialect === "json"
          ? escapeJsonString(toText(value))
          : toText(value);
    spend(out.length);
    return out;
  });
  return hb;
}

const ENVIRONMENTS: Record<Dialect, typeof Handlebars> = {
  json: createEnvironment("json"),
  text: createEnvironment("text"),
};

function compileOptions() {
  const knownHelpers: Record<string, boolean> = {
    log: false,
    helperMissing: false,
    blockHelperMissing: false,
  };
  for (const name of RULES.helpers) knownHelpers[name] = true;
  knownHelpers[OUTPUT_HELPER] = true;
  return { ...COMPILE_OPTIONS, knownHelpers };
}

function parse(hb: typeof Handlebars, kind: string, rewrite: BraceRewrite): ProgramNode {
  let ast: ProgramNode;
  try {
    // Without whitespace processing: compile applies it once, after the rewrite.
    ast = hb.parseWithoutProcessing(rewrite.source) as unknown as ProgramNode;
  } catch (error) {
    throw toSyntaxError(hb, kind, error, rewrite);
  }
  try {
    prepareTemplateAst(ast, RULES);
  } catch (error) {
    if (error instanceof TemplateRuleError)
      throw located(kind, error.message, error.line, error.column, rewrite);
    throw error;
  }
  return ast;
}

/**
 * Compiles `source` for `dialect`, or throws TemplateSyntaxError with a 1-based line and column.
 * `kind` only names the template in messages.
 */
export function compileTemplate(kind: string, dialect: Dialect, source: string): Handlebars.TemplateDelegate {
  return compileMeasured(kind, dialect, source).template;
}

/**
 * A compiled template's estimated share of the heap. Measured: about four bytes per character of
 * the JavaScript Handlebars generates, plus about 16 KiB each (from 24 KB for a one-line template
 * to 4.9 MB for 29 KB holding 3,000 expressions, which the source's length does not predict).
 */
function templateHeapBytes(codeChars: number): number {
  return 16 * 1024 + 4 * codeChars;
}

function compileMeasured(
  kind: string,
  dialect: Dialect,
  source: string,
): { template: Handlebars.TemplateDelegate; heapBytes: number } {
  const bytes = Buffer.byteLength(source, "utf8");
  if (bytes > MAX_TEMPLATE_BYTES) {
    throw new TemplateSyntaxError(
      kind,
      `the template is ${bytes} bytes; the limit is ${MAX_TEMPLATE_BYTES}`,
      1,
      1,
    );
  }
  const hb = ENVIRONMENTS[dialect];
  // `{{x}}}` can only be a parse error in Handlebars, so reading it as `{{x}}` + `}` changes no
  // template that compiled before.
  const rewrite = separateClosingBraces(source);
  // compile() is lazy; precompile() runs the same compiler now, so errors surface when a route is
  // saved. Each call gets its own AST because compiling mutates it.
  let code: string;
  try {
    code = String(hb.precompile(parse(hb, kind, rewrite), compileOptions()));
  } catch (error) {
    if (error instanceof TemplateSyntaxError) throw error;
    throw toSyntaxError(hb, kind, error, rewrite);
  }
  return {
    template: hb.compile(parse(hb, kind, rewrite), compileOptions()),
    heapBytes: templateHeapBytes(code.length),
  };
}

function located(kind: string, reason: string, line: number, column: number, rewrite: BraceRewrite) {
  const at = rewrite.toOriginal(line, column);
  return new TemplateSyntaxError(kind, reason, at.line, at.column);
}

interface LexerLocation {
  first_line: number;
  first_column: number;
  last_line: number;
  last_column: number;
}

/**
 * Handlebars reports compiler errors with `lineNumber`/`column` (0-based column) but parser errors
 * only in prose; the parser's lexer still holds where it stopped. It is shared, but parsing is
 * synchronous, so it describes the error just thrown.
 */
function toSyntaxError(
  hb: typeof Handlebars,
  kind: string,
  error: unknown,
  rewrite: BraceRewrite,
): TemplateSyntaxError {
  const message = error instanceof Error ? error.message : String(error);
  const found = error as { lineNumber?: unknown; column?: unknown };
  if (typeof found.lineNumber === "number") {
    const column = typeof found.column === "number" ? found.column + 1 : 1;
    return located(kind, message.replace(/ - \d+:\d+$/, ""), found.lineNumber, column, rewrite);
  }
  const parser = (hb as unknown as { Parser?: { lexer?: { yylloc?: LexerLocation } } }).Parser;
  const at = parser?.lexer?.yylloc;
  if (message.startsWith("Parse error") && at) {
    const reason = message.split("\n").at(-1) ?? message;
    return located(kind, reason, at.first_line, at.first_column + 1, rewrite);
  }
  if (message.startsWith("Lexical error") && at) {
    const reason = "unrecognized text (an unclosed comment or expression?)";
    return located(kind, reason, at.last_line, at.last_column + 1, rewrite);
  }
  return new TemplateSyntaxError(kind, message.split("\n")[0] ?? message, 1, 1);
}

interface CacheEntry {
  source: string;
  template: Handlebars.TemplateDelegate;
  heapBytes: number;
}

const cache = new LRUCache<string, CacheEntry>({
  max: TEMPLATE_CACHE_ENTRIES,
  maxSize: TEMPLATE_CACHE_BYTES,
  sizeCalculation: (entry) => entry.heapBytes,
});

/**
 * The compiled template for `cacheKey`. The source is compared on every hit, so a key reused for
 * a changed template recompiles instead of rendering the old one.
 */
function cachedTemplate(
  kind: string,
  dialect: Dialect,
  source: string,
  cacheKey: string,
): Handlebars.TemplateDelegate {
  const key = `${dialect}\u0000${cacheKey}`;
  const hit = cache.get(key);
  if (hit && hit.source === source) return hit.template;
  const { template, heapBytes } = compileMeasured(kind, dialect, source);
  cache.set(key, { source, template, heapBytes });
  return template;
}

/**
 * A render stopped by a work budget smaller than RENDER_WORK_BUDGET: not the template's fault, the
 * caller asked for a cheap render and must render again with the whole budget (off the main thread).
 */
export class RenderTooBigForBudget extends Error {
  override name = "RenderTooBigForBudget";
}

/**
 * Renders `source` against `payload`; throws TemplateRenderError, or RenderTooBigForBudget when
 * `workBudget` (below RENDER_WORK_BUDGET) runs out.
 */
export function renderTemplate(
  kind: string,
  dialect: Dialect,
  source: string,
  payload: unknown,
  cacheKey: string,
  workBudget: number = RENDER_WORK_BUDGET,
): string {
  let template: Handlebars.TemplateDelegate;
  try {
    template = cachedTemplate(kind, dialect, source, cacheKey);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TemplateRenderError(kind, `cannot compile: ${reason}`, { cause: error });
  }
  let out: string;
  try {
    out = withRenderBudget(workBudget, () => template(payload, RUNTIME_OPTIONS));
  } catch (error) {
    if (error instanceof RenderBudgetExceeded && workBudget < RENDER_WORK_BUDGET) {
      throw new RenderTooBigForBudget(`more than ${workBudget} units`);
    }
    if (error instanceof RenderBudgetExceeded) {
      throw new TemplateRenderError(
        kind,
        `the render exceeds its work budget of ${RENDER_WORK_BUDGET} units (characters written, loop iterations, and the items and characters helpers read: a helper given a whole list inside a loop over that list costs its length squared); the output limit is ${MAX_OUTPUT_BYTES} bytes`,
      );
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new TemplateRenderError(kind, `rendering failed: ${reason}`, { cause: error });
  }
  const bytes = Buffer.byteLength(out, "utf8");
  if (bytes > MAX_OUTPUT_BYTES) {
    throw new TemplateRenderError(
      kind,
      `the rendered output is ${bytes} bytes; the limit is ${MAX_OUTPUT_BYTES}`,
    );
  }
  return out;
}

/** For tests: how many compiled templates are cached, and a way to start empty. */
export const templateCache = {
  size: (): number => cache.size,
  clear: (): void => cache.clear(),
};
