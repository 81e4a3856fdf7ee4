import type { RouteOut } from "../api/index.ts";
import { REDACTED } from "../delivery/index.ts";
import { type RouteIn, RouteInSchema } from "../routing/index.ts";

/*
 * The diff between route files and live routes, matched by name, as pure functions. A live
 * value the gateway hides ("[redacted]" credentials, signing secrets it never shows again) cannot
 * be compared and counts as unchanged; everything else is compared after the schema's defaults,
 * so a file that leaves a field out equals a live route that has the default.
 */

export type PlanAction = "create" | "update" | "unchanged" | "delete";

export interface PlanEntry {
  action: PlanAction;
  name: string;
  /** The route file (null for a live route no file names). */
  file: string | null;
  desired: RouteIn | null;
  live: RouteOut | null;
  /** update: the top-level fields that differ. */
  changes: string[];
}

const ROUTE_FIELDS = Object.keys(RouteInSchema.shape) as (keyof RouteIn)[];

const isNil = (v: unknown) => v === undefined || v === null;

/** Deep equality where absent and null are the same, and a hidden live value matches anything. */
export function sameValue(desired: unknown, live: unknown): boolean {
  if (live === REDACTED) return true;
  if (isNil(desired) || isNil(live)) return isNil(desired) && isNil(live);
  if (Array.isArray(desired) || Array.isArray(live)) {
    if (!Array.isArray(desired) || !Array.isArray(live) || desired.length !== live.length) return false;
    return desired.every((d, i) => sameValue(d, live[i]));
  }
  if (typeof desired === "object" && typeof live === "object") {
    const d = desired as Record<string, unknown>;
    const l = live as Record<string, unknown>;
    return [...new Set([...Object.keys(d), ...Object.keys(l)])].every((k) => sameValue(d[k], l[k]));
  }
  return desired === live;
}

/** The target without its signing secret: files may carry one, the API never shows it again. */
function comparableTarget(target: object | undefined): Record<string, unknown> {
  const { signing, ...rest } = (target ?? {}) as { signing?: Record<string, unknown> };
  const { secret: _secret, ...shownSigning } = signing ?? {};
  return { ...rest, signing: shownSigning };
}

export function routeChanges(desired: RouteIn, live: RouteOut): string[] {
  const l = live as unknown as Record<string, unknown>;
  return ROUTE_FIELDS.filter((field) =>
    field === "target"
      ? !sameValue(comparableTarget(desired.target), comparableTarget(live.target))
      : !sameValue(desired[field], l[field]),
  );
}

export class PlanError extends Error {
  override name = "PlanError";
}

export function planRoutes(
  local: readonly { file: string; route: RouteIn }[],
  live: readonly RouteOut[],
): PlanEntry[] {
  const liveByName = new Map<string, RouteOut>();
  for (const route of live) {
    if (liveByName.has(route.name)) {
      throw new PlanError(
        `the gateway has two routes named "${route.name}" (${liveByName.get(route.name)?.id}, ${route.id}); rename one first`,
      );
    }
    liveByName.set(route.name, route);
  }
  const entries: PlanEntry[] = local.map(({ file, route }) => {
    const current = liveByName.get(route.name) ?? null;
    if (!current)
      return { action: "create", name: route.name, file, desired: route, live: null, changes: [] };
    const changes = routeChanges(route, current);
    const action = changes.length > 0 ? "update" : "unchanged";
    return { action, name: route.name, file, desired: route, live: current, changes };
  });
  const named = new Set(local.map((l) => l.route.name));
  for (const route of live) {
    if (!named.has(route.name)) {
      entries.push({
        action: "delete",
        name: route.name,
        file: null,
        desired: null,
        live: route,
        changes: [],
      });
    }
  }
  return entries;
}

/**
 * The PATCH that makes `live` what the file says: each changed field, null where the file has
 * none. `target` merges on the server, so every field of the live target the file does not set is
 * sent as null (removed); the signing secret is sent only with a new scheme (otherwise the stored
 * one stays: it cannot be compared).
 */
export function patchFor(
  desired: RouteIn,
  live: RouteOut,
  changes: readonly string[],
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  const d = desired as unknown as Record<string, unknown>;
  for (const field of changes) {
    if (field !== "target") {
      patch[field] = d[field] ?? null;
      continue;
    }
    const want = desired.target as unknown as Record<string, unknown>;
    const have = live.target as unknown as Record<string, unknown>;
    const target: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(want), ...Object.keys(have)])) {
      if (key !== "signing") target[key] = want[key] ?? null;
    }
    const { secret, ...signing } = desired.target.signing;
    const shown = live.target.signing as Record<string, unknown>;
    const nextSigning: Record<string, unknown> = {};
    for (const key of new Set([...Object.keys(signing), ...Object.keys(shown)])) {
      if (key !== "secret") nextSigning[key] = (signing as Record<string, unknown>)[key] ?? null;
    }
    if (secret && signing.scheme !== live.target.signing.scheme) nextSigning.secret = secret;
    target.signing = nextSigning;
    patch.target = target;
  }
  return patch;
}
