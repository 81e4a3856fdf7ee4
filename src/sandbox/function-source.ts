/**
 * User function sources: format detection, wrapping and compile-only checking.
 *
 * Two formats are accepted:
 * - module: an ES module whose default export is the function,
 *   `export default (event) => event.type === "messageNew"` (sync or async, arrow or function).
 * - body (EmailEngine style): the body of a function that `return`s, with two names in scope:
 *   `payload`, the webhook body as its sender sent it (EmailEngine's own functions read
 *   `payload.path`, `payload.data.subject`, so they must run here unchanged), and `event`,
 *   Hookgate's event. For an event from a source (`sourceKind` other than "api") `payload` is
 *   `event.data`, the body the adapter kept; for an event posted to /v1/events it is the event,
 *   which is what that sender sent. The body is an inner function of a one-line wrapper (so
 *   line numbers shift by exactly one, and a body may still declare its own `event`):
 *   `export default function (event) { return __hookgateBody(<payload>); function
 *   __hookgateBody(payload) {\n<body>\n} }`, the inner function `async` when the body mentions
 *   `await`, like EmailEngine's `(async (payload) => { … })(payload)`. A body is strict-mode code,
 *   like a module.
 *
 * A source is a module when it contains `export default` (or `export { x as default }`) and
 * compiles as a module; otherwise it is a body. Compiling never runs the code: it happens in a
 * small shared "checker" isolate (V8's own parser, so the accepted syntax is exactly what the
 * sandbox runs), synchronously.
 */
import ivm from "isolated-vm";
import { guardProcessExit } from "./exit-guard.ts";
import type { SyntaxProblem } from "./types.ts";

export type SourceFormat = "module" | "body";

export interface PreparedSource {
  format: SourceFormat;
  /** ES module source to compile in the sandbox. */
  code: string;
  /** Lines the wrapper adds before the user's first line (subtract from V8 line numbers). */
  lineOffset: number;
  /** Number of lines in the user's source, to clamp positions inside the wrapper's tail. */
  userLines: number;
  /** Length of the user's last line, for positions clamped to the end of the source. */
  lastLineLength: number;
}

export type PrepareResult = { ok: true; source: PreparedSource } | { ok: false; problem: SyntaxProblem };

/** The sender's body of `event`: `event.data` for an event a source made, else the event itself. */
const PAYLOAD_OF_EVENT =
  '(event !== null && typeof event === "object" && typeof event.sourceKind === "string" && event.sourceKind !== "api" ? event.data : event)';
// The call comes before the (hoisted) declaration so that the wrapper's tail is only braces: a
// body left open then fails as "Unexpected end of input", as it would on its own.
const BODY_CALL = `export default function (event) { return __hookgateBody(${PAYLOAD_OF_EVENT});`;
const BODY_PREFIX_SYNC = `${BODY_CALL} function __hookgateBody(payload) {\n`;
const BODY_PREFIX_ASYNC = `${BODY_CALL} async function __hookgateBody(payload) {\n`;
const BODY_SUFFIX = "\n} }";
const MODULE_HINT = /\bexport\s+default\b|\bexport\s*\{[^}]*\bas\s+default\b/;
const MODULE_AT_LINE_START = /^\s*(?:export|import)\b/m;
/** V8 compile errors as isolated-vm reports them: `Unexpected token ')' [file.js:2:10]`. */
const POSITIONED = /^([\s\S]*?) \[[^\]]*?:(\d+):(\d+)\]$/;

/** Detect the format of `source` and return the module source to run, or the first syntax problem. */
export function prepareFunctionSource(source: string): PrepareResult {
  const lines = source.split("\n");
  const shape = { userLines: lines.length, lastLineLength: (lines[lines.length - 1] ?? "").length };
  const asModule = (): PrepareResult => {
    const compiled = compile(source);
    const problem =
      "error" in compiled
        ? positionProblem(compiled.error, { ...shape, lineOffset: 0 })
        : (importProblem(compiled.specifiers, source) ?? defaultExportProblem(source));
    return problem
      ? { ok: false, problem }
      : { ok: true, source: { format: "module", code: source, lineOffset: 0, ...shape } };
  };
  const asBody = (): PrepareResult => {
    const prefix = /\bawait\b/.test(source) ? BODY_PREFIX_ASYNC : BODY_PREFIX_SYNC;
    const code = prefix + source + BODY_SUFFIX;
    const compiled = compile(code);
    const problem =
      "error" in compiled
        ? positionProblem(compiled.error, { ...shape, lineOffset: 1 })
        : importProblem(compiled.specifiers, source);
    return problem
      ? { ok: false, problem }
      : { ok: true, source: { format: "body", code, lineOffset: 1, ...shape } };
  };
  if (!MODULE_HINT.test(source)) return asBody();
  const moduleResult = asModule();
  if (moduleResult.ok) return moduleResult;
  // "export default" may also appear inside a string or a comment of a body.
  const bodyResult = asBody();
  if (bodyResult.ok) return bodyResult;
  return MODULE_AT_LINE_START.test(source) ? moduleResult : bodyResult;
}

/** Compile-only check of a filter/map source; null when it would load. Never runs the code. */
export function checkFunctionSource(source: string): SyntaxProblem | null {
  const result = prepareFunctionSource(source);
  return result.ok ? null : result.problem;
}

/**
 * Turn a V8 compile error message (`msg [file:line:col]`) into a problem positioned in the user's
 * source. Also used for errors from compiling in a route's own isolate.
 */
export function positionProblem(
  rawMessage: string,
  shape: { lineOffset: number; userLines: number; lastLineLength: number },
): SyntaxProblem {
  const m = POSITIONED.exec(rawMessage);
  if (!m) return { message: rawMessage, line: 1, column: 1 };
  let line = Number(m[2]) - shape.lineOffset;
  let column = Number(m[3]);
  if (line < 1) {
    line = 1;
    column = 1;
  } else if (line > shape.userLines) {
    line = shape.userLines;
    column = shape.lastLineLength + 1;
  }
  return { message: m[1] ?? rawMessage, line, column };
}

function compile(code: string): { specifiers: string[] } | { error: string } {
  try {
    const mod = checker().compileModuleSync(code, { filename: "function.js" });
    const specifiers = mod.dependencySpecifiers;
    mod.release();
    return { specifiers };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

/** Appending a second default export fails to compile exactly when the module already has one. */
function defaultExportProblem(source: string): SyntaxProblem | null {
  if ("error" in compile(`${source}\nexport default 0;`)) return null;
  return { message: "The module has no default export", line: 1, column: 1 };
}

function importProblem(specifiers: string[], userSource: string): SyntaxProblem | null {
  const first = specifiers[0];
  if (first === undefined) return null;
  let line = 1;
  let column = 1;
  const at = Math.max(userSource.indexOf(`"${first}"`), userSource.indexOf(`'${first}'`));
  if (at >= 0) {
    const before = userSource.slice(0, at).split("\n");
    line = before.length;
    column = (before[before.length - 1] ?? "").length + 1;
  }
  return { message: `Imports are not allowed (import of "${first}")`, line, column };
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

let checkerIsolate: ivm.Isolate | null = null;
let checkerUses = 0;

/** The shared compile-only isolate; replaced now and then so compiled code cannot pile up. */
function checker(): ivm.Isolate {
  if (checkerIsolate === null || checkerIsolate.isDisposed || checkerUses > 5000) {
    if (checkerIsolate !== null && !checkerIsolate.isDisposed) checkerIsolate.dispose();
    guardProcessExit();
    checkerIsolate = new ivm.Isolate({ memoryLimit: 64 });
    checkerUses = 0;
  }
  checkerUses++;
  return checkerIsolate;
}

/** The source if it holds anything but whitespace; a blank function is no function. */
export function present(source: string | null | undefined): string | null {
  return typeof source === "string" && /\S/.test(source) ? source : null;
}
