import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import type { HookgateEvent } from "../../../src/events/index.ts";
import {
  buildRoute,
  type CompiledRoute,
  candidateRoutes,
  compileRoute,
  globKey,
  RouteIndex,
  RouteInSchema,
  scanCandidates,
} from "../../../src/routing/index.ts";
import { createSandbox } from "../../../src/sandbox/index.ts";
import { walkEvent } from "../../../src/walk/index.ts";

/*
 * The index must keep exactly the routes a scan of the whole list keeps, in the same order:
 * random route lists and events over a small alphabet (so that globs, prefixes and sources
 * collide often) are run through both.
 */

interface RouteSpec {
  events: string[];
  sources?: string[];
  enabled: boolean;
  stop: boolean;
}

function compiled(specs: readonly RouteSpec[]): CompiledRoute[] {
  return specs.map((spec, i) =>
    compileRoute(
      buildRoute(
        RouteInSchema.parse({
          name: `r${i}`,
          target: { url: "https://example.com/hook" },
          ...spec,
        }),
      ),
    ),
  );
}

function event(type: string, source: string | null, sourceKind?: string | null): HookgateEvent {
  return {
    id: "evt",
    type,
    source,
    ...(sourceKind === undefined ? {} : { sourceKind }),
    account: null,
    occurredAt: "2026-01-01T00:00:00.000Z",
    receivedAt: "2026-01-01T00:00:00.000Z",
    data: {},
  };
}

// Types over "ab." and globs over the same plus wildcards: short enough to match one another.
const typeArb = fc.string({ unit: fc.constantFrom("a", "b", "."), minLength: 1, maxLength: 4 });
const globArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant("*") },
  {
    weight: 6,
    arbitrary: fc.string({ unit: fc.constantFrom("a", "b", ".", "*", "?"), minLength: 1, maxLength: 4 }),
  },
);
const refs = ["src_1", "src_2", "emailengine", "stalwart"];
const specArb: fc.Arbitrary<RouteSpec> = fc.record(
  {
    events: fc.array(globArb, { minLength: 1, maxLength: 3 }),
    sources: fc.array(fc.constantFrom(...refs), { minLength: 1, maxLength: 3 }),
    enabled: fc.boolean(),
    stop: fc.boolean(),
  },
  { requiredKeys: ["events", "enabled", "stop"] },
);
const eventArb = fc.tuple(
  typeArb,
  fc.option(fc.constantFrom(...refs, "other"), { nil: null }),
  fc.option(fc.constantFrom(...refs, "other"), { nil: undefined }),
);

const ids = (routes: readonly CompiledRoute[]) => routes.map((r) => r.route.id);

describe("globKey", () => {
  const cases: [string, ReturnType<typeof globKey>][] = [
    ["*", { kind: "any" }],
    ["**", { kind: "any" }],
    ["messageNew", { kind: "exact", key: "messageNew" }],
    ["message*", { kind: "prefix", key: "message" }],
    ["message-ingest.?am", { kind: "prefix", key: "message-ingest." }],
    ["*.bounce", { kind: "scan" }],
    ["?x", { kind: "scan" }],
  ];
  for (const [glob, expected] of cases) {
    it(`files ${glob} as ${expected.kind}`, () => assert.deepEqual(globKey(glob), expected));
  }
});

describe("RouteIndex", () => {
  it("finds routes by exact type, prefix, residual glob and source, in walk order", () => {
    const routes = compiled([
      { events: ["messageNew"], enabled: true, stop: false },
      { events: ["message*"], enabled: true, stop: false },
      { events: ["*New"], enabled: true, stop: false },
      { events: ["messageNew"], sources: ["emailengine"], enabled: true, stop: false },
      { events: ["messageBounce"], enabled: true, stop: false },
      { events: ["*"], sources: ["src_1"], enabled: true, stop: false },
      { events: ["*"], enabled: true, stop: false },
    ]);
    const index = new RouteIndex(routes);
    const names = (e: HookgateEvent) => index.candidates(e).map((r) => r.route.name);
    assert.deepEqual(names(event("messageNew", null)), ["r0", "r1", "r2", "r6"]);
    assert.deepEqual(names(event("messageNew", "src_1", "emailengine")), [
      "r0",
      "r1",
      "r2",
      "r3",
      "r5",
      "r6",
    ]);
    assert.deepEqual(names(event("messageBounce", "src_2", "stalwart")), ["r1", "r4", "r6"]);
    assert.deepEqual(names(event("trackOpen", "src_2")), ["r6"]);
  });

  it("lists a route once when several of its globs and sources take the event", () => {
    const routes = compiled([
      { events: ["a*", "ab", "*b", "a?"], sources: ["src_1", "emailengine"], enabled: true, stop: false },
    ]);
    const found = new RouteIndex(routes).candidates(event("ab", "src_1", "emailengine"));
    assert.equal(found.length, 1);
  });

  it("keeps the same routes as a scan, in the same order, for random routes and events", () => {
    fc.assert(
      fc.property(
        fc.array(specArb, { maxLength: 40 }),
        fc.array(eventArb, { minLength: 1, maxLength: 10 }),
        (specs, events) => {
          const routes = compiled(specs);
          const index = new RouteIndex(routes);
          for (const [type, source, kind] of events) {
            const e = event(type, source, kind);
            assert.deepEqual(ids(index.candidates(e)), ids(scanCandidates(routes, e)));
            assert.deepEqual(ids(candidateRoutes(routes, e)), ids(scanCandidates(routes, e)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("walkEvent over the index", () => {
  // No route here has a filter or map, so the sandbox is never entered; it is the real one.
  const sandbox = createSandbox({ mode: "inline", timeoutMs: 250, memoryLimitMb: 16, maxIsolates: 4 });
  after(() => sandbox.dispose());

  it("fires and stops exactly as the walk of every route does", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(specArb, { minLength: 16, maxLength: 60 }),
        eventArb,
        async (specs, [type, source, kind]) => {
          const routes = compiled(specs);
          const e = event(type, source, kind);
          const everyRoute = await walkEvent(routes, e, sandbox, { reportSkipped: true });
          const indexed = await walkEvent(routes, e, sandbox);
          const fired = (walks: typeof indexed) => walks.filter((w) => w.fired).map((w) => w.route.route.id);
          assert.deepEqual(fired(indexed), fired(everyRoute));
          // The routes walked agree with the full walk; the rest it skipped without running them.
          const full = new Map(everyRoute.map((w) => [w.route.route.id, w]));
          for (const w of indexed) {
            assert.deepEqual(
              [w.fired, w.skipped],
              [full.get(w.route.route.id)?.fired, full.get(w.route.route.id)?.skipped],
            );
            full.delete(w.route.route.id);
          }
          for (const w of full.values()) {
            assert.ok(!w.fired && w.skipped !== null, `${w.route.route.name} left out but walked`);
            assert.equal(w.route.matchesType(e.type) && w.route.matchesSource(e), false);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
