/**
 * Checks and rewrites a parsed Handlebars template before it is compiled. This is where Hookgate's
 * template rules are decided, on the AST rather than on strings:
 * - no partials and no decorators (there are none to call, and they would run user-chosen code paths);
 * - helper calls only to known helpers, with a message that lists them;
 * - block nesting is bounded;
 * - every `{{…}}` (and `{{{…}}}`) becomes `{{OUTPUT (…)}}`, so all output goes through one helper
 *   that escapes for the body's format (JSON string content, or raw text) and counts the output.
 *   Handlebars' own escaper is HTML-only and process-global, so it is never used.
 * Nodes are only re-arranged or given fixed names; no user text becomes a node type or code.
 */

interface SourceLocation {
  start: { line: number; column: number };
}
interface Node {
  type: string;
  loc?: SourceLocation | null;
}
interface PathNode extends Node {
  type: "PathExpression";
  data: boolean;
  depth: number;
  parts: string[];
  original: string;
}
interface HashNode extends Node {
  pairs: Array<{ key: string; value: Node }>;
}
interface CallNode extends Node {
  path: Node;
  params: Node[];
  hash?: HashNode | undefined;
}
interface MustacheNode extends CallNode {
  escaped: boolean | string;
}
interface BlockNode extends CallNode {
  program?: ProgramNode | null;
  inverse?: ProgramNode | null;
}
export interface ProgramNode extends Node {
  body: Node[];
  chained?: boolean;
}

export interface AstRules {
  /** Helpers a template may call (built-ins and Hookgate's). */
  helpers: ReadonlySet<string>;
  /** The reserved helper wrapped around every mustache; templates may not name it. */
  outputHelper: string;
  /** Deepest allowed block nesting (`{{#each}}` inside `{{#if}}` … counts 2). */
  maxBlockDepth: number;
}

/** A rule violation at a place in the template (1-based line and column). */
export class TemplateRuleError extends Error {
  readonly line: number;
  readonly column: number;

  constructor(message: string, node: Node) {
    super(message);
    this.name = "TemplateRuleError";
    this.line = node.loc?.start.line ?? 1;
    this.column = (node.loc?.start.column ?? 0) + 1;
  }
}

/** Validates `program` against `rules` and rewrites its output statements in place. */
export function prepareTemplateAst(program: ProgramNode, rules: AstRules): void {
  visitProgram(program, 0, rules);
}

function visitProgram(program: ProgramNode, depth: number, rules: AstRules): void {
  for (const node of program.body) visitStatement(node, depth, rules);
}

function visitStatement(node: Node, depth: number, rules: AstRules): void {
  switch (node.type) {
    case "ContentStatement":
    case "CommentStatement":
      return;
    case "MustacheStatement": {
      const mustache = node as MustacheNode;
      visitCall(mustache, rules, isCall(mustache) || knownName(mustache.path, rules) !== null);
      wrapOutput(mustache, rules);
      return;
    }
    case "BlockStatement": {
      const block = node as BlockNode;
      if (depth + 1 > rules.maxBlockDepth) {
        throw new TemplateRuleError(`blocks are nested deeper than ${rules.maxBlockDepth} levels`, node);
      }
      // `{{#list}}…{{/list}}` without arguments is a section over a value, not a helper call.
      visitCall(block, rules, isCall(block));
      if (block.program) visitProgram(block.program, depth + 1, rules);
      // `{{else if …}}` chains are siblings, not deeper nesting.
      if (block.inverse) visitProgram(block.inverse, block.inverse.chained ? depth : depth + 1, rules);
      return;
    }
    case "PartialStatement":
    case "PartialBlockStatement":
      throw new TemplateRuleError("partials ({{> name}}) are not supported", node);
    case "Decorator":
    case "DecoratorBlock":
      throw new TemplateRuleError("decorators ({{* name}}) are not supported", node);
    default:
      throw new TemplateRuleError(`unsupported template construct ${node.type}`, node);
  }
}

function isCall(node: CallNode): boolean {
  return node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0;
}

/** The helper a path names when it is a bare identifier (`upper`, not `this.upper`, `../x` or `@x`). */
function simpleName(path: Node): string | null {
  if (path.type !== "PathExpression") return null;
  const p = path as PathNode;
  if (p.data || p.depth > 0 || p.parts.length !== 1 || /^(?:\.|this\b)/.test(p.original)) return null;
  return p.parts[0] ?? null;
}

function knownName(path: Node, rules: AstRules): string | null {
  const name = simpleName(path);
  return name !== null && rules.helpers.has(name) ? name : null;
}

function visitCall(node: CallNode, rules: AstRules, calls: boolean): void {
  checkReserved(node.path, rules);
  if (calls && knownName(node.path, rules) === null) {
    const shown = node.path.type === "PathExpression" ? (node.path as PathNode).original : node.path.type;
    throw new TemplateRuleError(
      `unknown helper "${shown}"; available helpers: ${[...rules.helpers].sort().join(", ")}`,
      node.path.loc ? node.path : node,
    );
  }
  for (const param of node.params) visitExpression(param, rules);
  for (const pair of node.hash?.pairs ?? []) visitExpression(pair.value, rules);
}

function visitExpression(node: Node, rules: AstRules): void {
  if (node.type === "SubExpression") visitCall(node as CallNode, rules, true);
  else checkReserved(node, rules);
}

function checkReserved(node: Node, rules: AstRules): void {
  if (node.type === "PathExpression" && (node as PathNode).parts.includes(rules.outputHelper)) {
    throw new TemplateRuleError(`"${rules.outputHelper}" is reserved`, node);
  }
}

/**
 * `{{path}}` → `{{OUTPUT path}}`; `{{helper a b}}` → `{{OUTPUT (helper a b)}}`. A literal in path
 * position (`{{"a b"}}`) is a property lookup in Handlebars, so it becomes that path.
 */
function wrapOutput(mustache: MustacheNode, rules: AstRules): void {
  const loc = mustache.loc ?? null;
  const callsHelper = isCall(mustache) || knownName(mustache.path, rules) !== null;
  const inner: Node = callsHelper
    ? ({
        type: "SubExpression",
        path: mustache.path,
        params: mustache.params,
        hash: mustache.hash,
        loc,
      } as CallNode)
    : asPath(mustache.path);
  mustache.path = path(rules.outputHelper, loc);
  mustache.params = [inner];
  mustache.hash = undefined;
  // The output helper does the escaping, so Handlebars must not (it would HTML-escape).
  mustache.escaped = false;
}

const LITERALS = new Set([
  "StringLiteral",
  "NumberLiteral",
  "BooleanLiteral",
  "UndefinedLiteral",
  "NullLiteral",
]);

function asPath(node: Node): Node {
  if (!LITERALS.has(node.type)) return node;
  const original = String((node as Node & { original?: unknown }).original);
  return path(original, node.loc ?? null);
}

function path(name: string, loc: SourceLocation | null): PathNode {
  return { type: "PathExpression", data: false, depth: 0, parts: [name], original: name, loc };
}
