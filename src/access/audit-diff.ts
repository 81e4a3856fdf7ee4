import { REDACTED } from "../delivery/index.ts";

/*
 * What a change did, field by field, without showing a secret. The diff is taken on the stored
 * objects (so a rotated secret or a changed credential header counts as a change), and each
 * changed value is shown as the API shows it (toRouteOut, toSourceOut): where the API shows
 * nothing or "[redacted]", so does the audit trail.
 */

export interface Change {
  /** Dotted path of the field ("filter", "target.headers.X-Api-Key"); "" for the whole thing. */
  path: string;
  before?: unknown;
  after?: unknown;
}

/** A state as stored (raw) and as the API shows it (shown). */
export interface Snapshot {
  raw: unknown;
  shown: unknown;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function at(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path) {
    if (!isPlainObject(v)) return undefined;
    v = v[key];
  }
  return v;
}

/** The value at `path` as shown; a stored value the API does not show at all is "[redacted]". */
function shownAt(snapshot: Snapshot | null, path: readonly string[]): unknown {
  if (!snapshot) return undefined;
  const shown = at(snapshot.shown, path);
  if (shown !== undefined) return shown;
  return at(snapshot.raw, path) === undefined ? undefined : REDACTED;
}

/** The fields that differ between two snapshots (null: the thing did not exist). */
export function auditDiff(before: Snapshot | null, after: Snapshot | null): Change[] {
  const changes: Change[] = [];
  const walk = (a: unknown, b: unknown, path: string[]) => {
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[key], b[key], [...path, key]);
      return;
    }
    if (same(a, b)) return;
    const change: Change = { path: path.join(".") };
    const was = shownAt(before, path);
    const now = shownAt(after, path);
    if (was !== undefined) change.before = was;
    if (now !== undefined) change.after = now;
    changes.push(change);
  };
  walk(before?.raw ?? {}, after?.raw ?? {}, []);
  return changes;
}
