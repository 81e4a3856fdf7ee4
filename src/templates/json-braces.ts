/**
 * In a JSON template `{"text": {{json x}}}` is natural, but Handlebars' lexer reads `}}}` as the
 * end of a triple-stash and fails on it. Before parsing, a `}` right after the `}}` that closes a
 * `{{…` expression is separated from it with an empty comment (`{{json x}}{{!}}}`), so it stays
 * template text. Such a template could only be a parse error before, so no working template
 * changes meaning. Triple-stash expressions (`{{{x}}}`), comments and strings inside expressions
 * are left alone; templates with raw blocks (`{{{{`) are not touched at all.
 *
 * Error positions from the rewritten source are mapped back with `toOriginal`.
 */

const SEPARATOR = "{{!}}";

export interface BraceRewrite {
  source: string;
  /** Maps a 1-based line/column in `source` back to the template as written. */
  toOriginal(line: number, column: number): { line: number; column: number };
}

export function separateClosingBraces(original: string): BraceRewrite {
  /** Offsets in `original` where a separator was inserted before the character there. */
  const inserted: number[] = [];
  if (!original.includes("{{{{")) {
    let i = 0;
    while (i < original.length) {
      const open = original.indexOf("{{", i);
      if (open < 0) break;
      i = skipExpression(original, open, inserted);
    }
  }
  if (inserted.length === 0) return { source: original, toOriginal: (line, column) => ({ line, column }) };
  let source = "";
  let from = 0;
  for (const at of inserted) {
    source += original.slice(from, at) + SEPARATOR;
    from = at;
  }
  source += original.slice(from);
  return {
    source,
    toOriginal: (line, column) => {
      const offset = offsetOf(source, line, column);
      let shift = 0;
      for (const [n, at] of inserted.entries()) {
        const rewrittenAt = at + n * SEPARATOR.length;
        if (offset >= rewrittenAt + SEPARATOR.length) shift += SEPARATOR.length;
        else if (offset >= rewrittenAt) shift += offset - rewrittenAt; // inside the separator itself
      }
      return positionOf(original, offset - shift);
    },
  };
}

/** Skips the expression opening at `open`; records where a separator is needed; returns the next index. */
function skipExpression(text: string, open: number, inserted: number[]): number {
  // `\{{` is literal text in Handlebars.
  if (open > 0 && text[open - 1] === "\\" && text[open - 2] !== "\\") return open + 2;
  if (text.startsWith("{{!--", open)) return endAfter(text, "--}}", open + 5);
  if (text.startsWith("{{!", open)) return endAfter(text, "}}", open + 3);
  if (text.startsWith("{{{", open)) return endAfter(text, "}}}", open + 3);
  let i = open + 2;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      i = endOfString(text, i);
      continue;
    }
    if (text.startsWith("}}", i)) {
      if (text[i + 2] === "}") inserted.push(i + 2);
      return i + 2;
    }
    i++;
  }
  return text.length;
}

function endAfter(text: string, close: string, from: number): number {
  const at = text.indexOf(close, from);
  return at < 0 ? text.length : at + close.length;
}

/** Handlebars strings end at the next unescaped matching quote. */
function endOfString(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === "\\") i += 2;
    else if (text[i] === quote) return i + 1;
    else i++;
  }
  return text.length;
}

function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf("\n", offset);
    if (next < 0) break;
    offset = next + 1;
  }
  return offset + column - 1;
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}
