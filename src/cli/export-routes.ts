import { posix } from "node:path";
import type { RouteOut } from "../api/index.ts";
import { REDACTED } from "../delivery/index.ts";
import { RouteInSchema } from "../routing/index.ts";
import { prepareFunctionSource } from "../sandbox/index.ts";
import { sameValue } from "./plan.ts";

/*
 * A live route as a route file: the API's route body without what the schema would fill in
 * anyway, with filter and map moved to JavaScript files named by filterFile / mapFile. Pure: the
 * command does the reading and writing.
 */

export interface ExportedFunction {
  kind: "filter" | "map";
  source: string;
  /** As written in the route file: relative to the route file's directory. */
  ref: string;
}

export interface ExportedRoute {
  json: Record<string, unknown>;
  functions: ExportedFunction[];
  /** Fields the gateway would not show (credentials): the file carries "[redacted]" there. */
  hidden: string[];
}

const DEFAULTS = RouteInSchema.parse({ name: "-", target: { url: "https://example.invalid/" } });
/** Written first, in this order, so exported files read like hand-written ones. */
const FIRST = ["name", "enabled", "events", "sources", "filterFile", "mapFile"];

export function slugOf(name: string): string {
  const slug = name
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return slug || "route";
}

/** Keys of `value` whose values differ from `defaults` (and are not null). */
function withoutDefaults(
  value: Record<string, unknown>,
  defaults: Record<string, unknown>,
  keep: string[] = [],
) {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    if (!keep.includes(key) && key in defaults && sameValue(v, defaults[key])) continue;
    out[key] = v;
  }
  return out;
}

/** An EmailEngine-style body (`return …` with `payload`) is not a module: linters must skip it. */
function functionFileName(base: string, kind: "filter" | "map", source: string): string {
  const prepared = prepareFunctionSource(source);
  const body = prepared.ok && prepared.source.format === "body";
  return `${base}.${kind}${body ? ".body" : ""}.js`;
}

/** `value`'s keys in the order `like` has them, then `first`, then the rest. */
function orderedLike(value: Record<string, unknown>, like: Record<string, unknown>, first: string[] = []) {
  const out: Record<string, unknown> = {};
  for (const key of [...Object.keys(like), ...first, ...Object.keys(value)])
    if (key in value && !(key in out)) out[key] = value[key];
  return out;
}

const objectAt = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/**
 * `live` as the content of a route file. `refs` are the function files the existing file for this
 * route already names (kept, so an export over a checkout rewrites files in place);
 * `functionsDir` is relative to the route file's directory, for new ones. `existing`, the file
 * being rewritten as parsed, keeps its key order and the defaults it spells out.
 */
export function exportRoute(
  live: RouteOut,
  base: string,
  refs: { filterFile?: string; mapFile?: string },
  functionsDir: string,
  existing: Record<string, unknown> = {},
): ExportedRoute {
  const existingTarget = objectAt(existing.target);
  const existingSigning = objectAt(existingTarget.signing);
  const fields = Object.fromEntries(
    Object.keys(RouteInSchema.shape).map((k) => [k, (live as unknown as Record<string, unknown>)[k]]),
  ) as Record<string, unknown>;
  const functions: ExportedFunction[] = [];
  for (const kind of ["filter", "map"] as const) {
    const source = live[kind];
    delete fields[kind];
    if (!source) continue;
    const refKey = kind === "filter" ? "filterFile" : "mapFile";
    const ref = refs[refKey] ?? posix.join(functionsDir, functionFileName(base, kind, source));
    functions.push({ kind, source, ref });
    fields[refKey] = ref;
  }
  const defaults = DEFAULTS as unknown as Record<string, unknown>;
  const target = withoutDefaults(
    live.target as unknown as Record<string, unknown>,
    defaults.target as Record<string, unknown>,
    ["url", ...Object.keys(existingTarget)],
  );
  const signing = withoutDefaults(
    live.target.signing as Record<string, unknown>,
    DEFAULTS.target.signing as Record<string, unknown>,
    Object.keys(existingSigning),
  );
  delete signing.secret;
  if (Object.keys(signing).length > 0) target.signing = orderedLike(signing, existingSigning);
  else delete target.signing;
  // Other objects with defaults of their own (retry) leave those out too, as the file did.
  for (const [key, value] of Object.entries(fields)) {
    const given = objectAt(value);
    const fallback = objectAt(defaults[key]);
    if (key === "target" || Object.keys(given).length === 0 || Object.keys(fallback).length === 0) continue;
    const existingValue = objectAt(existing[key]);
    const kept = withoutDefaults(given, fallback, Object.keys(existingValue));
    fields[key] = Object.keys(kept).length > 0 ? orderedLike(kept, existingValue) : value;
  }
  const rest = withoutDefaults({ ...fields, target: orderedLike(target, existingTarget) }, defaults, [
    "name",
    "target",
    "filterFile",
    "mapFile",
    ...Object.keys(existing),
  ]);
  const json = orderedLike(rest, existing, FIRST);

  const hidden: string[] = [];
  for (const [name, value] of Object.entries(live.target.headers)) {
    if (value === REDACTED) hidden.push(`target.headers.${name}`);
  }
  for (const [key, value] of Object.entries(live.target.auth ?? {})) {
    if (value === REDACTED) hidden.push(`target.auth.${key}`);
  }
  return { json, functions, hidden };
}
