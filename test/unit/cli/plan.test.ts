import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toRouteOut } from "../../../src/api/route-out.ts";
import { exportRoute, slugOf } from "../../../src/cli/export-routes.ts";
import { patchFor, planRoutes, routeChanges, sameValue } from "../../../src/cli/plan.ts";
import { REDACTED } from "../../../src/delivery/index.ts";
import {
  applyRoutePatch,
  buildRoute,
  type RouteIn,
  RouteInSchema,
  RoutePatchSchema,
} from "../../../src/routing/index.ts";

const routeIn = (x: Record<string, unknown>): RouteIn =>
  RouteInSchema.parse({ target: { url: "https://hooks.example.com/a" }, ...x });
const stored = (x: Record<string, unknown>) => buildRoute(routeIn(x));
const live = (x: Record<string, unknown>) => toRouteOut(stored(x));

describe("sameValue", () => {
  it("treats absent and null alike, and a hidden live value as matching", () => {
    assert.ok(sameValue({ a: 1, b: null }, { a: 1 }));
    assert.ok(sameValue({ h: "secret" }, { h: REDACTED }));
    assert.ok(!sameValue([1, 2], [2, 1]));
    assert.ok(!sameValue({ a: { b: 1 } }, { a: { b: 2 } }));
  });
});

describe("planRoutes", () => {
  it("matches files and live routes by name", () => {
    const files = [
      { file: "routes/a.json", route: routeIn({ name: "a" }) },
      { file: "routes/b.json", route: routeIn({ name: "b", events: ["messageNew"] }) },
      { file: "routes/c.json", route: routeIn({ name: "c" }) },
    ];
    const plan = planRoutes(files, [live({ name: "b" }), live({ name: "c" }), live({ name: "gone" })]);
    assert.deepEqual(
      plan.map((e) => [e.action, e.name, e.changes]),
      [
        ["create", "a", []],
        ["update", "b", ["events"]],
        ["unchanged", "c", []],
        ["delete", "gone", []],
      ],
    );
  });

  it("refuses two live routes of one name", () => {
    assert.throws(() => planRoutes([], [live({ name: "x" }), live({ name: "x" })]), /two routes named "x"/);
  });
});

describe("routeChanges and patchFor", () => {
  it("leaves out what cannot be compared: the signing secret and redacted credentials", () => {
    const file = routeIn({
      name: "r",
      target: {
        url: "https://hooks.example.com/a",
        headers: { Authorization: "Bearer abc" },
        signing: { secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
      },
    });
    const current = live({
      name: "r",
      target: { url: "https://hooks.example.com/a", headers: { Authorization: "Bearer old" } },
    });
    assert.equal(current.target.headers.Authorization, REDACTED);
    assert.deepEqual(routeChanges(file, current), []);
  });

  it("builds a PATCH that, applied, makes the live route what the file says", () => {
    const before = stored({
      name: "r",
      filter: "export default () => true",
      sources: ["mailtrap"],
      template: { kind: "slack" },
      target: {
        url: "https://hooks.example.com/a",
        rateLimit: 2,
        signing: { scheme: "hmac-sha256", header: "X-Sig" },
      },
    });
    const file = routeIn({
      name: "r",
      events: ["bounce"],
      target: { url: "https://hooks.example.com/b", timeoutMs: 500 },
    });
    const changes = routeChanges(file, toRouteOut(before));
    assert.deepEqual(changes.sort(), ["events", "filter", "sources", "target", "template"]);
    const patch = RoutePatchSchema.parse(patchFor(file, toRouteOut(before), changes));
    const after = applyRoutePatch(before, patch);
    assert.deepEqual(routeChanges(file, toRouteOut(after)), []);
    assert.equal(after.target.rateLimit, undefined, "a target field the file does not set is removed");
    assert.equal(after.target.signing.scheme, "standard-webhooks");
  });
});

describe("exportRoute", () => {
  it("writes what differs from the defaults, with functions in files, and reads back the same", () => {
    const route = toRouteOut(
      stored({
        name: "VIP mail to Slack",
        events: ["messageNew"],
        filter: "export default (e) => e.data.vip === true",
        map: "return { text: payload.data.subject };",
        template: { kind: "slack" },
        target: { url: "https://hooks.slack.com/services/T/B/X", timeoutMs: 5000 },
      }),
    );
    const out = exportRoute(route, slugOf(route.name), {}, "../functions");
    assert.deepEqual(out.json, {
      name: "VIP mail to Slack",
      events: ["messageNew"],
      filterFile: "../functions/vip-mail-to-slack.filter.js",
      mapFile: "../functions/vip-mail-to-slack.map.body.js",
      template: { kind: "slack" },
      target: { url: "https://hooks.slack.com/services/T/B/X", timeoutMs: 5000 },
    });
    assert.deepEqual(
      out.functions.map((f) => [f.kind, f.ref]),
      [
        ["filter", "../functions/vip-mail-to-slack.filter.js"],
        ["map", "../functions/vip-mail-to-slack.map.body.js"],
      ],
    );
    const { filterFile: _f, mapFile: _m, ...rest } = out.json;
    const readBack = routeIn({ ...rest, filter: route.filter, map: route.map });
    assert.deepEqual(routeChanges(readBack, route), []);
  });

  it("keeps the function files an existing route file names, and lists hidden credentials", () => {
    const route = toRouteOut(
      stored({
        name: "r",
        filter: "export default () => true",
        target: { url: "https://x.example/", headers: { "X-Api-Key": "k" } },
      }),
    );
    const out = exportRoute(route, "r", { filterFile: "../functions/mine.js" }, "../functions");
    assert.equal(out.json.filterFile, "../functions/mine.js");
    assert.deepEqual(out.hidden, ["target.headers.X-Api-Key"]);
  });
});
