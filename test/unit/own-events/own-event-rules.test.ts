import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { targetKeyOf } from "../../../src/delivery/index.ts";
import { aboutRoute } from "../../../src/own-events/index.ts";
import { buildRoute, compileRoute, RouteInSchema } from "../../../src/routing/index.ts";

const route = (events: string[], url = "http://127.0.0.1:9/hook") =>
  buildRoute(RouteInSchema.parse({ name: "r", events, target: { url, signing: { scheme: "none" } } }));

describe("which routes take Hookgate's own events", () => {
  it("only globs that start with hookgate. match hookgate.* types", () => {
    const takes = (events: string[], type: string) => compileRoute(route(events)).matchesType(type);
    assert.equal(takes(["*"], "hookgate.route.disabled"), false);
    assert.equal(takes(["*.disabled"], "hookgate.route.disabled"), false);
    assert.equal(takes(["hook*"], "hookgate.route.disabled"), false);
    assert.equal(takes(["*"], "messageNew"), true);
    assert.equal(takes(["hookgate.*"], "hookgate.route.disabled"), true);
    assert.equal(takes(["hookgate.target.*"], "hookgate.route.disabled"), false);
    assert.equal(takes(["*", "hookgate.route.*"], "hookgate.route.enabled"), true);
    assert.equal(takes(["*", "hookgate.route.*"], "messageNew"), true);
    assert.equal(takes(["hookgate.*"], "messageNew"), false);
  });

  it("an event about a route, or about its target, is about that route", () => {
    const r = route(["hookgate.*"], "http://127.0.0.1:9/ops?x=1");
    assert.equal(aboutRoute({ type: "hookgate.route.disabled", data: { routeId: r.id } }, r), true);
    assert.equal(aboutRoute({ type: "hookgate.route.disabled", data: { routeId: "rte_other" } }, r), false);
    assert.equal(
      aboutRoute({ type: "hookgate.target.breaker_opened", data: { target: targetKeyOf(r.target.url) } }, r),
      true,
    );
    assert.equal(
      aboutRoute(
        { type: "hookgate.target.breaker_opened", data: { target: targetKeyOf("http://127.0.0.1:9/x") } },
        r,
      ),
      false,
    );
    // Not ours: a sender's event that happens to carry a routeId is walked as usual.
    assert.equal(aboutRoute({ type: "messageNew", data: { routeId: r.id } }, r), false);
  });
});
