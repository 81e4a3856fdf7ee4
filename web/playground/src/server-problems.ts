/**
 * Where an API error points inside the page: a function that does not compile (400
 * HG_ERR_FUNCTION_SYNTAX) or a template that does not compile (400 HG_ERR_TEMPLATE_SYNTAX) name
 * the field (`path`), line and column in a `details` entry, which the playground shows as a diagnostic in that editor.
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

/** The first `details` entry with a line and column, in the editor its path names. */
export function problemOf(error: ApiErrorBody): Problem | null {
  if (!Array.isArray(error.details)) return null;
  const d = error.details.find(
    (e): e is Record<string, unknown> =>
      isObject(e) && typeof e.line === "number" && typeof e.column === "number",
  );
  if (!d) return null;
  let editor: EditorName | null = null;
  if (error.code === "HG_ERR_FUNCTION_SYNTAX" && (d.path === "filter" || d.path === "map")) editor = d.path;
  if (error.code === "HG_ERR_TEMPLATE_SYNTAX") editor = "template";
  if (!editor) return null;
  const message = typeof d.message === "string" ? d.message : error.message;
  return { editor, line: d.line as number, column: d.column as number, message };
}

/**
 * `{path, message}` entries of an error as lines to show; an entry with a line and column is left
 * out, as the error's own line and the editor's diagnostic already show it.
 */
export function detailLines(error: ApiErrorBody): string[] {
  if (!Array.isArray(error.details)) return [];
  return error.details
    .filter(isObject)
    .filter((d) => typeof d.line !== "number" || typeof d.column !== "number")
    .map((d) => `${typeof d.path === "string" && d.path ? `${d.path}: ` : ""}${String(d.message ?? "")}`);
}
