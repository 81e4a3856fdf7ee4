/*
 * The model of the delivery-promise property test: what the test itself knows about the routes
 * (every version's definition, as it sent it) and the events it got accepted, and the pure
 * decision of which routes must have a delivery record for an event. Nothing here talks to the
 * gateway; the commands (promise-commands.ts) keep it up to date from the answers they read.
 */

export const EVENT_TYPES = ["messageNew", "messageDeleted", "bounce"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Glob lists a route may take: every type, a prefix, and an exact pair. */
export const EVENT_GLOBS: readonly (readonly string[])[] = [["*"], ["message*"], ["messageNew", "bounc?"]];

/**
 * The route functions the model can evaluate itself: a filter on `data.n`, a map and a JSON
 * template that tag their output, so two versions of a route give different bodies.
 */
export interface RouteShape {
  /** Events whose data.n is divisible by this; null: no filter. */
  filterMod: 2 | 3 | null;
  /** Map variant; null: no map (the payload is the event). */
  map: 1 | 2 | 3 | null;
  /** JSON template variant; null: no template (the payload as JSON). */
  template: 1 | 2 | null;
  /** Index into EVENT_GLOBS. */
  globs: number;
}

export function filterSource(mod: 2 | 3): string {
  return `export default (e) => e.data.n % ${mod} === 0`;
}

/** Variant 3 throws for some events: their walk fails, and a retry walks them again. */
export function mapSource(variant: 1 | 2 | 3): string {
  if (variant === 3) {
    return 'export default (e) => { if (e.data.n % 4 === 1) throw new Error("map-3 refuses " + e.data.n); return { id: e.id, n: e.data.n, tag: "map-3" }; }';
  }
  return `export default (e) => ({ id: e.id, n: e.data.n, tag: "map-${variant}" })`;
}

export function templateOf(variant: 1 | 2) {
  return { kind: "json" as const, body: `{"t": "tpl-${variant}", "p": {{json this}}}` };
}

/** Short schedules and a short timeout, so that every sequence settles within seconds. */
export const RETRY_SCHEDULE_MS = [50, 100, 200];
export const TARGET_TIMEOUT_MS = 300;

/** A route as POST /v1/routes takes it (and POST /v1/dry-run as an inline `route`). */
export interface RouteDefinition {
  name: string;
  enabled: boolean;
  events: string[];
  filter: string | null;
  map: string | null;
  template: ReturnType<typeof templateOf> | null;
  target: { url: string; timeoutMs: number; signing: { scheme: "standard-webhooks"; secret?: string } };
  retry: { scheduleMs: number[] };
}

export function definitionOf(name: string, shape: RouteShape, url: string): RouteDefinition {
  return {
    name,
    enabled: true,
    events: [...(EVENT_GLOBS[shape.globs] ?? ["*"])],
    filter: shape.filterMod === null ? null : filterSource(shape.filterMod),
    map: shape.map === null ? null : mapSource(shape.map),
    template: shape.template === null ? null : templateOf(shape.template),
    target: { url, timeoutMs: TARGET_TIMEOUT_MS, signing: { scheme: "standard-webhooks" } },
    retry: { scheduleMs: [...RETRY_SCHEDULE_MS] },
  };
}

export interface ModelRoute {
  /** The test's own number: the route's sink path is /r/<n>. */
  n: number;
  id: string;
  secret: string;
  sink: number;
  shape: RouteShape;
  /** As the user set it (the gateway may also disable it itself, after a 410). */
  enabled: boolean;
  /** Every version the test made, by the version number the gateway answered. */
  versions: Map<number, RouteDefinition>;
  /** Date.now() when the 204 of its DELETE was read. */
  deletedAt: number | null;
  /** Date.now() when the test last turned it on (its held deliveries were released then). */
  enabledAt: number | null;
}

/** What the model requires of one route for one accepted event. */
export type Expectation =
  /** Enabled at the post (by the model and by the gateway before and after): a delivery record. */
  | "record"
  /** Disabled at the post (by the user, or by the gateway itself after a 410): a held delivery. */
  | "held";

export interface ModelEvent {
  id: string;
  type: EventType;
  n: number;
  via: "single" | "batch" | "source";
  /** What POST /v1/dry-run takes to walk the same event (its `receivedAt` is the dry-run's own). */
  input: { id: string; type: string; occurredAt: string; data: { n: number }; source?: string };
  /** The ingest request's bounds (Date.now()): the stored receivedAt lies between them. */
  sentAt: number;
  answeredAt: number;
  /** Routes that take it, and what each must show for it. */
  expect: Map<string, Expectation>;
  /** Routes that existed at the post and certainly do not take it (type or filter). */
  refuse: Set<string>;
}

export interface Model {
  run: number;
  routes: ModelRoute[];
  nextRoute: number;
  events: Map<string, ModelEvent>;
  /** Events whose ingest answer was neither an acceptance nor a refusal (the request failed). */
  unsure: Set<string>;
  nextEvent: number;
  sourceId: string | null;
  killed: boolean;
  redisRestarted: boolean;
}

export function emptyModel(run: number): Model {
  return {
    run,
    routes: [],
    nextRoute: 1,
    events: new Map(),
    unsure: new Set(),
    nextEvent: 1,
    sourceId: null,
    killed: false,
    redisRestarted: false,
  };
}

export function liveRoutes(m: Model): ModelRoute[] {
  return m.routes.filter((r) => r.deletedAt === null);
}

/** The definition a delivery walked with: the newest version the test made at or below it. */
export function definitionAt(route: ModelRoute, version: number): RouteDefinition | undefined {
  let best = -1;
  for (const v of route.versions.keys()) if (v <= version && v > best) best = v;
  return route.versions.get(best);
}

export function currentDefinition(route: ModelRoute): RouteDefinition {
  const v = Math.max(...route.versions.keys());
  const def = route.versions.get(v);
  if (!def) throw new Error(`route ${route.n} has no version`);
  return def;
}

/** The reference glob: `*` any run of characters, `?` one character, the rest literal. */
export function globMatches(glob: string, type: string): boolean {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(type);
}

/** Whether a route with this definition takes an event of this type and n (when enabled). */
export function takes(def: RouteDefinition, shape: RouteShape, type: string, n: number): boolean {
  if (!def.events.some((g) => globMatches(g, type))) return false;
  return shape.filterMod === null || n % shape.filterMod === 0;
}

/**
 * For an event posted while no route change was in flight: each live route either takes it
 * (a record, or a held delivery when it was switched off at the post) or certainly does not.
 * `gatewayEnabled` holds the routes the gateway showed as enabled both before and after the post.
 */
export function expectationsFor(
  m: Model,
  type: string,
  n: number,
  gatewayEnabled: ReadonlySet<string>,
): { expect: Map<string, Expectation>; refuse: Set<string> } {
  const expect = new Map<string, Expectation>();
  const refuse = new Set<string>();
  for (const r of liveRoutes(m)) {
    if (!takes(currentDefinition(r), r.shape, type, n)) refuse.add(r.id);
    else expect.set(r.id, r.enabled && gatewayEnabled.has(r.id) ? "record" : "held");
  }
  return { expect, refuse };
}
