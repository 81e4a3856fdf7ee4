import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toRouteOut } from "../../../src/api/route-out.ts";
import {
  applyRoutePatch,
  buildRoute,
  compileRoute,
  RouteInSchema,
  RoutePatchSchema,
  sourceMatches,
} from "../../../src/routing/index.ts";

const fromEE = { source: "src_aaa", sourceKind: "emailengine" };
const fromStalwart = { source: "src_bbb", sourceKind: "stalwart" };
const noSource = { source: null };

describe("sourceMatches", () => {
  it("takes every event when the route lists no sources", () => {
    for (const e of [fromEE, fromStalwart, noSource]) {
      assert.equal(sourceMatches(undefined, e), true);
      assert.equal(sourceMatches([], e), true);
    }
  });

  it("matches by source id or by kind, and never an event without a source", () => {
    assert.equal(sourceMatches(["src_aaa"], fromEE), true);
    assert.equal(sourceMatches(["src_aaa"], fromStalwart), false);
    assert.equal(sourceMatches(["stalwart"], fromStalwart), true);
    assert.equal(sourceMatches(["stalwart"], fromEE), false);
    assert.equal(sourceMatches(["mailtrap", "src_aaa"], fromEE), true);
    assert.equal(sourceMatches(["emailengine"], noSource), false);
    // An event posted to /v1/events with a free-form source string matches that string.
    assert.equal(sourceMatches(["crm"], { source: "crm" }), true);
  });
});

describe("the route's sources field", () => {
  const input = RouteInSchema.parse({
    name: "r",
    target: { url: "https://example.com/h" },
    sources: ["emailengine"],
  });

  it("is compiled into matchesSource", () => {
    const compiled = compileRoute(buildRoute(input));
    assert.equal(compiled.matchesSource(fromEE), true);
    assert.equal(compiled.matchesSource(fromStalwart), false);
    const all = compileRoute(
      buildRoute(RouteInSchema.parse({ name: "r", target: { url: "https://example.com/h" } })),
    );
    assert.equal(all.matchesSource(fromStalwart), true);
  });

  it("is replaced by PATCH, and removed by null", () => {
    const route = buildRoute(input);
    const changed = applyRoutePatch(route, RoutePatchSchema.parse({ sources: ["src_bbb", "mailtrap"] }));
    assert.deepEqual(changed.sources, ["src_bbb", "mailtrap"]);
    assert.equal(changed.version, 2);
    const kept = applyRoutePatch(changed, RoutePatchSchema.parse({ name: "renamed" }));
    assert.deepEqual(kept.sources, ["src_bbb", "mailtrap"]);
    const cleared = applyRoutePatch(kept, RoutePatchSchema.parse({ sources: null }));
    assert.equal(cleared.sources, undefined);
    assert.equal("sources" in toRouteOut(cleared), false);
    assert.equal(compileRoute(cleared).matchesSource(fromStalwart), true);
  });

  it("refuses an empty list and odd characters", () => {
    assert.equal(RouteInSchema.safeParse({ ...input, sources: [] }).success, false);
    assert.equal(RouteInSchema.safeParse({ ...input, sources: ["a b"] }).success, false);
  });
});
