/**
 * The page's CodeMirror 6 editors. Syntax errors are diagnostics at their line, from two places:
 *
 * - while typing, CodeMirror's own JavaScript parser (Lezer, already loaded for highlighting; it
 *   reads `export default` modules and EmailEngine-style bodies with a top-level `return` alike)
 *   marks the first error node of the tree. Nothing is compiled or run in the page.
 * - on Run and Save, the gateway compiles the function with V8 exactly as the sandbox will and
 *   answers 400 with the line and column; that problem is shown until the text changes. It also
 *   catches what a tolerant parser lets through (an invalid regular expression, a duplicate `let`).
 */
import { javascript, javascriptLanguage } from "@codemirror/lang-javascript";
import { json, jsonParseLinter } from "@codemirror/lang-json";
import { type Diagnostic, forceLinting, linter, lintGutter } from "@codemirror/lint";
import { Compartment, EditorState, type Extension, type Text } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { baseSetup } from "./editor-setup.ts";

export type EditorLanguage = "javascript" | "json" | "template";

export interface PositionedProblem {
  line: number;
  column: number;
  message: string;
}

export interface CodeEditor {
  readonly view: EditorView;
  text(): string;
  setText(text: string): void;
  setReadOnly(readOnly: boolean): void;
  /** A problem the gateway reported, shown until the text changes (null clears it). */
  showProblem(problem: PositionedProblem | null): void;
}

/** A range of at least one character, so a point error (end of input) still gets a visible mark. */
function visibleRange(doc: Text, from: number, to: number): { from: number; to: number } {
  if (to > from) return { from, to };
  if (from < doc.length) return { from, to: from + 1 };
  return { from: Math.max(0, from - 1), to: doc.length };
}

/** The first syntax error Lezer's JavaScript parser finds, as a diagnostic. */
export function javascriptSyntaxDiagnostics(doc: Text): Diagnostic[] {
  const tree = javascriptLanguage.parser.parse(doc.toString());
  const errors: Array<{ from: number; to: number }> = [];
  tree.iterate({
    enter: (node) => {
      if (errors.length > 0) return false;
      if (node.type.isError) errors.push({ from: node.from, to: node.to });
      return undefined;
    },
  });
  const first = errors[0];
  if (!first) return [];
  const { from, to } = visibleRange(doc, first.from, first.to);
  const near = doc.sliceString(from, to).trim();
  const message = near ? `Syntax error: unexpected "${near}"` : "Syntax error: unexpected end of input";
  return [{ from, to, severity: "error", message, source: "syntax" }];
}

/** A 1-based line and column (as the API reports them) as a diagnostic in `doc`. */
export function problemDiagnostic(doc: Text, problem: PositionedProblem): Diagnostic {
  const line = doc.line(Math.min(Math.max(1, problem.line), doc.lines));
  const from = line.from + Math.min(Math.max(0, problem.column - 1), line.length);
  const range = visibleRange(doc, from, from < line.to ? from + 1 : from);
  return { ...range, severity: "error", message: problem.message, source: "gateway" };
}

const jsonLint = jsonParseLinter();

export function createEditor(
  parent: HTMLElement,
  options: { language: EditorLanguage; doc: string; label: string; onRun: () => void },
): CodeEditor {
  let reported: PositionedProblem | null = null;
  const readOnly = new Compartment();

  const local = (view: EditorView): Diagnostic[] => {
    if (options.language === "javascript") return javascriptSyntaxDiagnostics(view.state.doc);
    if (options.language === "json" && view.state.doc.length > 0) return jsonLint(view);
    return [];
  };
  const language: Extension[] =
    options.language === "javascript" ? [javascript()] : options.language === "json" ? [json()] : [];

  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        keymap.of([
          {
            key: "Mod-Enter",
            run: () => {
              options.onRun();
              return true;
            },
          },
        ]),
        baseSetup,
        ...language,
        lintGutter(),
        linter(
          (v) => {
            const found = local(v);
            return found.length || !reported ? found : [problemDiagnostic(v.state.doc, reported)];
          },
          { delay: 250 },
        ),
        readOnly.of([]),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) reported = null;
        }),
        EditorView.contentAttributes.of({ "aria-label": options.label }),
      ],
    }),
  });

  return {
    view,
    text: () => view.state.doc.toString(),
    setText(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    setReadOnly(value) {
      view.dispatch({
        effects: readOnly.reconfigure(
          value ? [EditorState.readOnly.of(true), EditorView.editable.of(false)] : [],
        ),
      });
    },
    showProblem(problem) {
      reported = problem;
      forceLinting(view);
    },
  };
}
