import fc from "fast-check";
import { request } from "undici";
import {
  currentDefinition,
  definitionOf,
  EVENT_GLOBS,
  EVENT_TYPES,
  type EventType,
  expectationsFor,
  filterSource,
  liveRoutes,
  type Model,
  type ModelRoute,
  mapSource,
  type RouteDefinition,
  type RouteShape,
  templateOf,
} from "./promise-model.ts";
import { BEHAVIOURS, type Behaviour, type PromiseRig, SINKS } from "./promise-rig.ts";

/*
 * The commands of the delivery-promise property test. Each one acts on the real gateway and
 * records in the model what the gateway answered. Route changes first wait until every accepted
 * event has been walked: an event is then walked with exactly the routes the model had when it
 * was posted, so the model can say which routes must have taken it.
 */

type Cmd = fc.AsyncCommand<Model, PromiseRig>;

const OCCURRED_AT = "2026-01-02T03:04:05.000Z";

function fail(what: string, res: { status: number; json: unknown }): never {
  throw new Error(`${what}: ${res.status} ${JSON.stringify(res.json)}`);
}

/** Picks a live route by an index taken modulo their number (shrinks well, always valid). */
function pick(m: Model, i: number): ModelRoute {
  const live = liveRoutes(m);
  const r = live[i % live.length];
  if (!r) throw new Error("no live route");
  return r;
}

class CreateRoute implements Cmd {
  label = "";
  readonly shape: RouteShape;
  readonly sink: number;
  constructor(shape: RouteShape, sink: number) {
    this.shape = shape;
    this.sink = sink;
  }
  check(m: Readonly<Model>) {
    return liveRoutes(m as Model).length < 4;
  }
  async run(m: Model, r: PromiseRig) {
    await r.untilWalked("before a route is created");
    const n = m.nextRoute++;
    const sink = r.sinks[this.sink];
    if (!sink) throw new Error(`no sink ${this.sink}`);
    const def = definitionOf(`r${n}`, this.shape, sink.url(n));
    const res = await r.call("POST", "/v1/routes", def);
    if (res.status !== 201) fail("create route", res);
    this.label = `r${n}`;
    m.routes.push({
      n,
      id: res.json.id,
      secret: res.json.target.signing.secret,
      sink: this.sink,
      shape: { ...this.shape },
      enabled: true,
      versions: new Map([[res.json.version as number, def]]),
      deletedAt: null,
      enabledAt: null,
    });
  }
  toString() {
    return `create(${this.label || "r?"} ${JSON.stringify(this.shape)} sink${this.sink})`;
  }
}

type Change =
  | { filterMod: 2 | 3 | null }
  | { map: 1 | 2 | 3 | null }
  | { template: 1 | 2 | null }
  | { globs: number }
  | { sink: number };

class PatchRoute implements Cmd {
  label = "";
  readonly i: number;
  readonly change: Change;
  constructor(i: number, change: Change) {
    this.i = i;
    this.change = change;
  }
  check(m: Readonly<Model>) {
    return liveRoutes(m as Model).length > 0;
  }
  async run(m: Model, r: PromiseRig) {
    await r.untilWalked("before a route is changed");
    const route = pick(m, this.i);
    this.label = `r${route.n}`;
    const c = this.change;
    const shape = { ...route.shape };
    let patch: Record<string, unknown>;
    let sink = route.sink;
    if ("filterMod" in c) {
      shape.filterMod = c.filterMod;
      patch = { filter: c.filterMod === null ? null : filterSource(c.filterMod) };
    } else if ("map" in c) {
      shape.map = c.map;
      patch = { map: c.map === null ? null : mapSource(c.map) };
    } else if ("template" in c) {
      shape.template = c.template;
      patch = { template: c.template === null ? null : templateOf(c.template) };
    } else if ("globs" in c) {
      shape.globs = c.globs;
      patch = { events: [...(EVENT_GLOBS[c.globs] ?? ["*"])] };
    } else {
      sink = c.sink;
      const target = r.sinks[c.sink];
      if (!target) throw new Error(`no sink ${c.sink}`);
      patch = { target: { url: target.url(route.n) } };
    }
    const res = await r.call("PATCH", `/v1/routes/${route.id}`, patch);
    if (res.status !== 200) fail(`patch ${this.label}`, res);
    const before = currentDefinition(route);
    const def: RouteDefinition = {
      ...before,
      ...(patch as Partial<RouteDefinition>),
      target: { ...before.target, ...((patch.target as object | undefined) ?? {}) },
    };
    route.versions.set(res.json.version, def);
    route.shape = shape;
    route.sink = sink;
  }
  toString() {
    return `patch(#${this.i}${this.label ? `=${this.label}` : ""} ${JSON.stringify(this.change)})`;
  }
}

class SetEnabled implements Cmd {
  label = "";
  readonly i: number;
  readonly enabled: boolean;
  constructor(i: number, enabled: boolean) {
    this.i = i;
    this.enabled = enabled;
  }
  check(m: Readonly<Model>) {
    return liveRoutes(m as Model).length > 0;
  }
  async run(m: Model, r: PromiseRig) {
    await r.untilWalked("before a route is switched");
    const route = pick(m, this.i);
    this.label = `r${route.n}`;
    // Turning it on releases what it held, from the moment the request is made.
    if (this.enabled) route.enabledAt = Date.now();
    const res = await r.call("PATCH", `/v1/routes/${route.id}`, { enabled: this.enabled });
    if (res.status !== 200) fail(`${this.enabled ? "enable" : "disable"} ${this.label}`, res);
    route.enabled = this.enabled;
    route.versions.set(res.json.version, currentDefinition(route));
  }
  toString() {
    return `${this.enabled ? "enable" : "disable"}(#${this.i}${this.label ? `=${this.label}` : ""})`;
  }
}

class DeleteRoute implements Cmd {
  label = "";
  readonly i: number;
  constructor(i: number) {
    this.i = i;
  }
  check(m: Readonly<Model>) {
    return liveRoutes(m as Model).length > 0;
  }
  async run(m: Model, r: PromiseRig) {
    await r.untilWalked("before a route is deleted");
    const route = pick(m, this.i);
    this.label = `r${route.n}`;
    const res = await r.delete(`/v1/routes/${route.id}`);
    // The moment the answer was read: nothing may reach the route's target after it.
    route.deletedAt = Date.now();
    if (res.status !== 204) fail(`delete ${this.label}`, res);
  }
  toString() {
    return `delete(#${this.i}${this.label ? `=${this.label}` : ""})`;
  }
}

class Reorder implements Cmd {
  label = "";
  readonly keys: number[];
  constructor(keys: number[]) {
    this.keys = keys;
  }
  check(m: Readonly<Model>) {
    return liveRoutes(m as Model).length > 1;
  }
  async run(m: Model, r: PromiseRig) {
    await r.untilWalked("before the routes are reordered");
    const live = liveRoutes(m);
    const order = live
      .map((route, k) => ({ route, key: this.keys[k % this.keys.length] ?? 0, k }))
      .sort((a, b) => a.key - b.key || a.k - b.k)
      .map((x) => x.route);
    this.label = order.map((x) => `r${x.n}`).join(",");
    const res = await r.call("PUT", "/v1/routes/order", { ids: order.map((x) => x.id) });
    if (res.status >= 300) fail("reorder", res);
  }
  toString() {
    return `reorder(${this.label || "?"})`;
  }
}

interface PostedEvent {
  type: EventType;
  n: number;
}

class PostEvents implements Cmd {
  label = "";
  readonly via: "single" | "batch" | "source";
  readonly events: PostedEvent[];
  constructor(via: "single" | "batch" | "source", events: PostedEvent[]) {
    this.via = via;
    this.events = events;
  }
  check() {
    return true;
  }
  async run(m: Model, r: PromiseRig) {
    const list = this.via === "single" ? this.events.slice(0, 1) : this.events;
    const src = this.via === "source" ? await ensureSource(m, r) : null;
    const items = list.map((e) => {
      const native = `e${m.run}-${m.nextEvent++}`;
      return { ...e, native, id: src ? `${src}:${native}` : native };
    });
    this.label = items.map((e) => `${e.id.replace(/^src_\w+:/, "src:")}/${e.type}/n=${e.n}`).join(" ");
    const before = await enabledAtGateway(r);
    const sentAt = Date.now();
    let accepted: Set<string> | null;
    try {
      accepted = src
        ? await postToSource(r, src, items)
        : await postEvents(r, this.via === "single" ? "single" : "batch", items);
    } catch (err) {
      if (err instanceof Refused) throw err;
      accepted = null;
    }
    const answeredAt = Date.now();
    const after = await enabledAtGateway(r);
    const enabled = new Set([...before].filter((id) => after.has(id)));
    for (const e of items) {
      if (accepted === null) {
        m.unsure.add(e.id);
        continue;
      }
      if (!accepted.has(e.id)) continue;
      const input = {
        id: e.id,
        type: e.type,
        occurredAt: OCCURRED_AT,
        data: { n: e.n },
        ...(src ? { source: src } : {}),
      };
      m.events.set(e.id, {
        id: e.id,
        type: e.type,
        n: e.n,
        via: this.via,
        input,
        sentAt,
        answeredAt,
        ...expectationsFor(m, e.type, e.n, enabled),
      });
    }
  }
  toString() {
    return `post-${this.via}(${this.label || JSON.stringify(this.events)})`;
  }
}

async function enabledAtGateway(r: PromiseRig): Promise<Set<string>> {
  const res = await r.call("GET", "/v1/routes");
  if (res.status !== 200) fail("list routes", res);
  return new Set(
    (res.json.routes as { id: string; enabled: boolean }[]).filter((x) => x.enabled).map((x) => x.id),
  );
}

async function postEvents(
  r: PromiseRig,
  via: "single" | "batch",
  items: { id: string; type: string; n: number }[],
): Promise<Set<string>> {
  const events = items.map((e) => ({ id: e.id, type: e.type, occurredAt: OCCURRED_AT, data: { n: e.n } }));
  const res = await r.call("POST", "/v1/events", via === "single" ? events[0] : { events });
  if (res.status !== 202) return refusedOrUnsure(res.status);
  return new Set(
    (res.json.events as { id: string; duplicate: boolean }[]).filter((e) => !e.duplicate).map((e) => e.id),
  );
}

/** Valid events refused as invalid: a fault of the test or of the gateway, never a lost event. */
class Refused extends Error {}

/**
 * A 503 (Redis unreachable: nothing accepted) stored nothing; a 4xx for these valid events fails
 * the sequence; any other answer may have stored some, so they are neither expected nor ruled out.
 */
function refusedOrUnsure(status: number): Set<string> {
  if (status === 503) return new Set();
  if (status >= 400 && status < 500) throw new Refused(`valid events refused with ${status}`);
  throw new Error(`ingest answered ${status}`);
}

async function ensureSource(m: Model, r: PromiseRig): Promise<string> {
  if (m.sourceId) return m.sourceId;
  const res = await r.call("POST", "/v1/sources", { name: "property source", kind: "generic" });
  if (res.status !== 201) fail("create source", res);
  m.sourceId = res.json.id as string;
  return m.sourceId;
}

async function postToSource(
  r: PromiseRig,
  src: string,
  items: { id: string; native: string; type: string; n: number }[],
): Promise<Set<string>> {
  const events = items.map((e) => ({
    id: e.native,
    type: e.type,
    occurredAt: OCCURRED_AT,
    data: { n: e.n },
  }));
  const res = await request(`${r.gw.url}/v1/ingest/${src}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ events }),
  });
  const json = (await res.body.json()) as { accepted?: number; duplicates?: number };
  // The answer counts; every id was new, so all of them were stored when all are counted.
  if (res.statusCode !== 200) return refusedOrUnsure(res.statusCode);
  if (json.accepted !== items.length)
    throw new Error(`ingest accepted ${json.accepted} of ${items.length} new events`);
  return new Set(items.map((e) => e.id));
}

class SetSink implements Cmd {
  readonly sink: number;
  readonly behaviour: Behaviour;
  constructor(sink: number, behaviour: Behaviour) {
    this.sink = sink;
    this.behaviour = behaviour;
  }
  check() {
    return true;
  }
  async run(_m: Model, r: PromiseRig) {
    const s = r.sinks[this.sink];
    if (!s) throw new Error(`no sink ${this.sink}`);
    s.behaviour = this.behaviour;
  }
  toString() {
    return `sink${this.sink}=${this.behaviour}`;
  }
}

/**
 * Retries every failed delivery by hand, as an operator would after fixing a route: a delivery
 * whose walk failed is walked again with the route's current version (or refused with 409).
 */
class RetryFailed implements Cmd {
  retried = 0;
  check() {
    return true;
  }
  async run(_m: Model, r: PromiseRig) {
    await r.untilWalked("before failed deliveries are retried");
    const list = await r.call("GET", "/v1/deliveries?status=failed&limit=500");
    if (list.status !== 200) fail("list failed deliveries", list);
    for (const d of list.json.deliveries as { id: string }[]) {
      const res = await r.call("POST", `/v1/deliveries/${d.id}/retry`);
      // 409: still in progress, held, its event gone, or its walk still fails: nothing is sent.
      if (res.status !== 202 && res.status !== 409) fail(`retry ${d.id}`, res);
      if (res.status === 202) this.retried++;
    }
  }
  toString() {
    return `retry-failed(${this.retried})`;
  }
}

class KillGateway implements Cmd {
  check(m: Readonly<Model>) {
    return !m.killed;
  }
  async run(m: Model, r: PromiseRig) {
    m.killed = true;
    await r.killAndRestart();
  }
  toString() {
    return "kill-9+restart";
  }
}

class RestartRedis implements Cmd {
  check(m: Readonly<Model>) {
    return !m.redisRestarted;
  }
  async run(m: Model, r: PromiseRig) {
    m.redisRestarted = true;
    await r.restartRedis();
  }
  toString() {
    return "redis-restart(aof)";
  }
}

const routeIndex = fc.nat({ max: 7 });
const shapeArb: fc.Arbitrary<RouteShape> = fc.record({
  filterMod: fc.constantFrom<(2 | 3 | null)[]>(null, 2, 3),
  map: fc.constantFrom<(1 | 2 | 3 | null)[]>(null, 1, 2, 3),
  template: fc.constantFrom<(1 | 2 | null)[]>(null, 1, 2),
  globs: fc.nat({ max: EVENT_GLOBS.length - 1 }),
});
const sinkArb = fc.nat({ max: SINKS - 1 });
const changeArb: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ filterMod: shapeArb.map((s) => s.filterMod) }),
  fc.record({ map: shapeArb.map((s) => s.map) }),
  fc.record({ template: shapeArb.map((s) => s.template) }),
  fc.record({ globs: fc.nat({ max: EVENT_GLOBS.length - 1 }) }),
  fc.record({ sink: sinkArb }),
);
const eventArb = fc.record({ type: fc.constantFrom(...EVENT_TYPES), n: fc.nat({ max: 11 }) });
const eventsArb = fc.array(eventArb, { minLength: 1, maxLength: 6 });

/** One to three routes to begin with, so that every sequence has something to deliver to. */
export function initialRoutesArb() {
  return fc.array(
    fc.tuple(shapeArb, sinkArb).map(([shape, sink]): Cmd => new CreateRoute(shape, sink)),
    { minLength: 1, maxLength: 3 },
  );
}

/** Random command sequences: route changes, posts (weighted up), sink behaviour, faults. */
export function commandsArb(maxCommands: number) {
  const post = fc
    .tuple(fc.constantFrom<("single" | "batch" | "source")[]>("single", "batch", "source"), eventsArb)
    .map(([via, events]): Cmd => new PostEvents(via, events));
  const w = (weight: number, arbitrary: fc.Arbitrary<Cmd>) => ({ weight, arbitrary });
  return fc.commands<Model, PromiseRig, false>(
    [
      fc.oneof(
        w(
          2,
          fc.tuple(shapeArb, sinkArb).map(([shape, sink]) => new CreateRoute(shape, sink)),
        ),
        w(
          2,
          fc.tuple(routeIndex, changeArb).map(([i, c]) => new PatchRoute(i, c)),
        ),
        w(
          1,
          routeIndex.map((i) => new SetEnabled(i, false)),
        ),
        w(
          1,
          routeIndex.map((i) => new SetEnabled(i, true)),
        ),
        w(
          1,
          routeIndex.map((i) => new DeleteRoute(i)),
        ),
        w(
          1,
          fc.array(fc.nat({ max: 9 }), { minLength: 1, maxLength: 4 }).map((keys) => new Reorder(keys)),
        ),
        w(8, post),
        w(
          3,
          fc.tuple(sinkArb, fc.constantFrom(...BEHAVIOURS)).map(([s, b]) => new SetSink(s, b)),
        ),
        w(
          1,
          fc.constant(null).map(() => new RetryFailed()),
        ),
        w(1, fc.constant(new KillGateway())),
        w(1, fc.constant(new RestartRedis())),
      ),
    ],
    { maxCommands, size: "max" },
  );
}
