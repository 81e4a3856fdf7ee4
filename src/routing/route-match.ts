import { globAsksForOwn, type HookgateEvent, isOwnType } from "../events/index.ts";
import type { Route } from "./route-schema.ts";

/**
 * Whether `type` matches `glob`: `*` matches any run of characters (also none), `?` exactly one
 * (UTF-16 unit); everything else is literal. Globs come from routes and types from
 * unauthenticated ingest, so this runs in O(glob × type) at worst and never backtracks
 * exponentially the way a regex would on `a*a*a*a*b`: after a mismatch only the most recent `*`
 * is widened, since any earlier star's extra reach is already covered by that later one.
 */
export function globMatches(glob: string, type: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1; // position in the glob just after the last `*` seen
  let starT = 0; // position in the type that star's run currently ends at
  while (t < type.length) {
    const c = glob[g];
    if (c === "*") {
      star = ++g;
      starT = t;
    } else if (c !== undefined && (c === "?" || c === type[t])) {
      g++;
      t++;
    } else if (star !== -1) {
      g = star;
      t = ++starT;
    } else return false;
  }
  while (glob[g] === "*") g++;
  return g === glob.length;
}

export interface CompiledRoute {
  route: Route;
  /** Identifies the compiled code of this route version in the sandbox and template caches. */
  key: string;
  matchesType: (type: string) => boolean;
  /** The event came from one of the route's `sources` (by id or kind), or the route has none. */
  matchesSource: (event: Pick<HookgateEvent, "source" | "sourceKind">) => boolean;
}

/**
 * Whether an event from `source` (its id) of kind `sourceKind` is one the route's `sources` list
 * takes: absent or empty takes every event; otherwise the id or the kind must be listed. Events
 * without a source (POST /v1/events without one) never match a restricted route.
 */
export function sourceMatches(
  sources: readonly string[] | undefined,
  event: Pick<HookgateEvent, "source" | "sourceKind">,
): boolean {
  if (!sources || sources.length === 0) return true;
  return (
    (event.source != null && sources.includes(event.source)) ||
    (event.sourceKind != null && sources.includes(event.sourceKind))
  );
}

/**
 * Whether a route's `globs` take `type`. Hookgate's own events (hookgate.*) are only taken by a
 * glob that names them from its start (`hookgate.*`): `*` means every mail event, not those.
 */
export function routeTakesType(globs: readonly string[], type: string): boolean {
  if (isOwnType(type)) return globs.some((g) => globAsksForOwn(g) && globMatches(g, type));
  return globs.some((g) => globMatches(g, type));
}

export function compileRoute(route: Route): CompiledRoute {
  const globs = route.events;
  const any = globs.includes("*");
  return {
    route,
    key: `${route.id}@${route.version}`,
    matchesType:
      any && !globs.some(globAsksForOwn) ? (type) => !isOwnType(type) : (type) => routeTakesType(globs, type),
    matchesSource: (event) => sourceMatches(route.sources, event),
  };
}
