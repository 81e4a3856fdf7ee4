/**
 * The editors' base extensions: what CodeMirror's `basicSetup` gives, built from the installed
 * @codemirror packages. The `codemirror` package in node_modules is the 6.65.7 release, which is
 * CodeMirror 5 under a 6.x number (no `basicSetup`), and @codemirror/commands is not installed, so
 * undo/redo, select-all and Enter with indentation are the small commands below.
 */
import {
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
  completionKeymap,
} from "@codemirror/autocomplete";
import {
  bracketMatching,
  defaultHighlightStyle,
  foldGutter,
  getIndentation,
  IndentContext,
  indentOnInput,
  indentString,
  syntaxHighlighting,
} from "@codemirror/language";
import {
  Annotation,
  type ChangeSet,
  EditorSelection,
  EditorState,
  type Extension,
  StateField,
  Transaction,
} from "@codemirror/state";
import {
  drawSelection,
  dropCursor,
  type EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";

// ------------------------------------------------------------------------------------------------
// Undo history: each entry is the inverse of an edit; typing within GROUP_MS is one entry.

const GROUP_MS = 500;
const MAX_ENTRIES = 200;

type Direction = "undo" | "redo";
const historyStep = Annotation.define<Direction>();

interface History {
  done: ChangeSet[];
  undone: ChangeSet[];
  lastTime: number;
}

const historyField = StateField.define<History>({
  create: () => ({ done: [], undone: [], lastTime: 0 }),
  update(history, tr) {
    if (!tr.docChanged) return history;
    const inverse = tr.changes.invert(tr.startState.doc);
    const step = tr.annotation(historyStep);
    if (step === "undo")
      return { done: history.done.slice(0, -1), undone: [...history.undone, inverse], lastTime: 0 };
    if (step === "redo")
      return { done: [...history.done, inverse], undone: history.undone.slice(0, -1), lastTime: 0 };
    const time = tr.annotation(Transaction.time) ?? Date.now();
    const last = history.done[history.done.length - 1];
    const done =
      last && time - history.lastTime < GROUP_MS && tr.isUserEvent("input")
        ? [...history.done.slice(0, -1), inverse.compose(last)]
        : [...history.done, inverse].slice(-MAX_ENTRIES);
    return { done, undone: [], lastTime: tr.isUserEvent("input") ? time : 0 };
  },
});

function stepHistory(direction: Direction) {
  return (view: EditorView): boolean => {
    const history = view.state.field(historyField);
    const stack = direction === "undo" ? history.done : history.undone;
    const changes = stack[stack.length - 1];
    if (!changes) return false;
    view.dispatch({
      changes,
      annotations: historyStep.of(direction),
      scrollIntoView: true,
      userEvent: direction,
    });
    return true;
  };
}

// The two editing commands of @codemirror/commands' default keymap the browser does not do itself.

function selectAll(view: EditorView): boolean {
  view.dispatch({ selection: { anchor: 0, head: view.state.doc.length }, userEvent: "select" });
  return true;
}

/** Enter: a new line indented as the language says (or as the line it breaks). */
function newlineAndIndent(view: EditorView): boolean {
  const { state } = view;
  view.dispatch(
    state.changeByRange((range) => {
      const line = state.doc.lineAt(range.from);
      const context = new IndentContext(state, { simulateBreak: range.from });
      const columns = getIndentation(context, range.from) ?? /^\s*/.exec(line.text)?.[0].length ?? 0;
      const insert = `\n${indentString(state, columns)}`;
      return {
        changes: { from: range.from, to: range.to, insert },
        range: EditorSelection.cursor(range.from + insert.length),
      };
    }),
    { scrollIntoView: true, userEvent: "input" },
  );
  return true;
}

const editingKeymap = [
  { key: "Mod-a", run: selectAll },
  { key: "Enter", run: newlineAndIndent },
];

const historyKeymap = [
  { key: "Mod-z", run: stepHistory("undo"), preventDefault: true },
  { key: "Mod-y", run: stepHistory("redo"), preventDefault: true },
  { key: "Mod-Shift-z", run: stepHistory("redo"), preventDefault: true },
];

export const baseSetup: Extension = [
  lineNumbers(),
  highlightActiveLineGutter(),
  highlightSpecialChars(),
  historyField,
  foldGutter(),
  drawSelection(),
  dropCursor(),
  EditorState.allowMultipleSelections.of(true),
  indentOnInput(),
  syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
  bracketMatching(),
  closeBrackets(),
  autocompletion(),
  highlightActiveLine(),
  keymap.of([...closeBracketsKeymap, ...completionKeymap, ...historyKeymap, ...editingKeymap]),
];
