import type { HookgateEvent } from "../events/index.ts";
import type { CompiledRoute } from "./route-match.ts";

/*
 * The routes that can take an event, found without looking at every route. Routes are filed by
 * the globs of their `events` (an exact type, a literal prefix, `*`, or, for globs that start
 * with a wildcard, a residual list tested one by one) inside a group per source: the routes
 * without `sources`, and one group per listed source id or kind. An event looks in its source's
 * groups only, and there in its type's buckets; what comes out is put back in walk order, so the
 * walk and `stop` see exactly the routes a scan of the whole list would have kept.
 */

export type EventKeys = Pick<HookgateEvent, "type" | "source" | "sourceKind">;

/** Where a glob files its route: every type, one type, a literal prefix, or a scan. */
export type GlobKey =
  | { kind: "any" }
  | { kind: "exact"; key: string }
  | { kind: "prefix"; key: string }
  | { kind: "scan" };

export function globKey(glob: string): GlobKey {
  if (/^\*+$/.test(glob)) return { kind: "any" };
  const wild = glob.search(/[*?]/);
  if (wild === -1) return { kind: "exact", key: glob };
  if (wild > 0) return { kind: "prefix", key: glob.slice(0, wild) };
  return { kind: "scan" };
}

/** The routes of one source group by their type globs; entries are positions in the walk order. */
class TypeIndex {
  readonly #any: number[] = [];
  readonly #exact = new Map<string, number[]>();
  readonly #prefixed = new Map<string, number[]>();
  #prefixLengths: number[] = [];
  readonly #scan: number[] = [];

  add(at: number, globs: readonly string[]): void {
    const keys = globs.map(globKey);
    if (keys.some((k) => k.kind === "any")) {
      this.#any.push(at);
      return;
    }
    for (const k of keys) {
      if (k.kind === "exact") push(this.#exact, k.key, at);
      else if (k.kind === "prefix") {
        push(this.#prefixed, k.key, at);
        if (!this.#prefixLengths.includes(k.key.length)) {
          this.#prefixLengths = [...this.#prefixLengths, k.key.length].sort((a, b) => a - b);
        }
      } else if (this.#scan.at(-1) !== at) this.#scan.push(at);
    }
  }

  /** Appends the positions of the routes whose globs take `type` (a route may appear twice). */
  collect(type: string, routes: readonly CompiledRoute[], out: number[]): void {
    out.push(...this.#any);
    const exact = this.#exact.get(type);
    if (exact) out.push(...exact);
    for (const length of this.#prefixLengths) {
      if (length > type.length) break;
      for (const at of this.#prefixed.get(type.slice(0, length)) ?? []) {
        if (routes[at]?.matchesType(type)) out.push(at);
      }
    }
    for (const at of this.#scan) if (routes[at]?.matchesType(type)) out.push(at);
  }
}

function push(map: Map<string, number[]>, key: string, at: number): void {
  const list = map.get(key);
  if (list) {
    if (list.at(-1) !== at) list.push(at);
  } else map.set(key, [at]);
}

export class RouteIndex {
  readonly #routes: readonly CompiledRoute[];
  readonly #open = new TypeIndex();
  readonly #bySource = new Map<string, TypeIndex>();

  constructor(routes: readonly CompiledRoute[]) {
    this.#routes = routes;
    routes.forEach((compiled, at) => {
      const { events, sources } = compiled.route;
      if (!sources || sources.length === 0) {
        this.#open.add(at, events);
        return;
      }
      for (const ref of new Set(sources)) {
        const group = this.#bySource.get(ref) ?? new TypeIndex();
        this.#bySource.set(ref, group);
        group.add(at, events);
      }
    });
  }

  /** The routes whose type globs and sources take the event, in walk order. */
  candidates(event: EventKeys): CompiledRoute[] {
    const at: number[] = [];
    this.#open.collect(event.type, this.#routes, at);
    if (event.source != null) this.#bySource.get(event.source)?.collect(event.type, this.#routes, at);
    if (event.sourceKind != null && event.sourceKind !== event.source) {
      this.#bySource.get(event.sourceKind)?.collect(event.type, this.#routes, at);
    }
    if (at.length > 1) at.sort((a, b) => a - b);
    const out: CompiledRoute[] = [];
    let last = -1;
    for (const i of at) {
      const route = this.#routes[i];
      if (i !== last && route) out.push(route);
      last = i;
    }
    return out;
  }
}

/** The reference the index must agree with: every route tested in walk order. */
export function scanCandidates(routes: readonly CompiledRoute[], event: EventKeys): CompiledRoute[] {
  return routes.filter((r) => r.matchesType(event.type) && r.matchesSource(event));
}

// Below this many routes a scan is as cheap as a lookup, and lists made for one request (the
// dry-run of one route, the route test) need no index built for them.
const SCAN_BELOW = 16;
const indexes = new WeakMap<readonly CompiledRoute[], RouteIndex>();

/**
 * The index of a route list, built on first use and kept while the list lives (the route table
 * builds it when it loads a new revision). The list must not change afterwards: the table freezes
 * its lists.
 */
export function routeIndexOf(routes: readonly CompiledRoute[]): RouteIndex {
  const index = indexes.get(routes) ?? new RouteIndex(routes);
  indexes.set(routes, index);
  return index;
}

/** The routes of `routes` whose type and source take the event, in walk order. */
export function candidateRoutes(routes: readonly CompiledRoute[], event: EventKeys): CompiledRoute[] {
  return routes.length < SCAN_BELOW ? scanCandidates(routes, event) : routeIndexOf(routes).candidates(event);
}
