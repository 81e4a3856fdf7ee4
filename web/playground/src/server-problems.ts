/**
 * Where an API error points inside the page: a function that does not compile (400
 * HG_ERR_FUNCTION_SYNTAX) or a template that does not compile (400 HG_ERR_TEMPLATE_SYNTAX) name
 * the field, line and column, which the playground shows as a diagnostic in that editor.
 */

export type EditorName = "filter" | "map" | "template";

export interface Problem {
  editor: EditorName;
  line: number;
  column: number;
  message: string;
}

export interface ApiErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function problemOf(error: ApiErrorBody): Problem | null {
  const d = error.details;
  if (!isObject(d) || typeof d.line !== "number" || typeof d.column !== "number") return null;
  let editor: EditorName | null = null;
  if (error.code === "HG_ERR_FUNCTION_SYNTAX" && (d.field === "filter" || d.field === "map"))
    editor = d.field;
  if (error.code === "HG_ERR_TEMPLATE_SYNTAX") editor = "template";
  if (!editor) return null;
  // The function error carries V8's own message; the template one says it in `message`.
  const message = typeof d.message === "string" ? d.message : error.message.replace(/^template: /, "");
  return { editor, line: d.line, column: d.column, message };
}

/** `{path, message}` entries of a validation error as lines to show. */
export function detailLines(error: ApiErrorBody): string[] {
  if (!Array.isArray(error.details)) return [];
  return error.details
    .filter(isObject)
    .map((d) => `${typeof d.path === "string" && d.path ? `${d.path}: ` : ""}${String(d.message ?? "")}`);
}
