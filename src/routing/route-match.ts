import type { HookgateEvent } from "../events/index.ts";
import type { Route } from "./route-schema.ts";

/** `*` matches any run of characters (also none), `?` exactly one; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
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

export function compileRoute(route: Route): CompiledRoute {
  const patterns = route.events.map(globToRegExp);
  const any = route.events.includes("*");
  return {
    route,
    key: `${route.id}@${route.version}`,
    matchesType: any ? () => true : (type) => patterns.some((p) => p.test(type)),
    matchesSource: (event) => sourceMatches(route.sources, event),
  };
}
