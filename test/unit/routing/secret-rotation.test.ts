import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toRouteOut } from "../../../src/api/route-out.ts";
import { HookgateError } from "../../../src/errors.ts";
import {
  applyRoutePatch,
  buildRoute,
  MAX_PREVIOUS_SECRETS,
  type Route,
  RouteInSchema,
  rotateRouteSecret,
} from "../../../src/routing/index.ts";

const t0 = new Date("2026-05-01T12:00:00Z");
const at = (s: number) => new Date(t0.getTime() + s * 1000);

function route(signing: Record<string, unknown> = {}): Route {
  return buildRoute(
    RouteInSchema.parse({ name: "r", target: { url: "https://example.com/h", signing } }),
    t0,
  );
}

describe("rotateRouteSecret", () => {
  it("puts a new whsec_ secret in place and keeps the old one signing for the grace", () => {
    const r = route();
    const next = rotateRouteSecret(r, { graceS: 3600 }, at(10));
    assert.equal(next.version, r.version + 1);
    assert.equal(next.updatedAt, at(10).toISOString());
    assert.match(next.target.signing.secret ?? "", /^whsec_/);
    assert.notEqual(next.target.signing.secret, r.target.signing.secret);
    assert.deepEqual(next.previousSecrets, [
      { secret: r.target.signing.secret, expiresAt: at(3610).toISOString() },
    ]);
    assert.deepEqual(toRouteOut(next, false, { now: at(11).getTime() }).secretRotation, {
      previousSecretExpiresAt: at(3610).toISOString(),
    });
    assert.equal(toRouteOut(next, false, { now: at(3610).getTime() }).secretRotation, undefined);
    assert.equal("previousSecrets" in toRouteOut(next), false);
  });

  it("takes a given secret, checks it against the scheme, and keeps no old one with grace 0", () => {
    const r = route();
    const given = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    const next = rotateRouteSecret(r, { secret: given, graceS: 0 }, at(1));
    assert.equal(next.target.signing.secret, given);
    assert.equal(next.previousSecrets, undefined);
    assert.throws(
      () => rotateRouteSecret(r, { secret: "not-a-whsec-secret", graceS: 60 }, at(1)),
      (err) => err instanceof HookgateError && err.status === 400,
    );
  });

  it("prunes secrets whose grace has ended and keeps at most the latest few", () => {
    let r = route();
    r = rotateRouteSecret(r, { graceS: 5 }, at(0));
    r = rotateRouteSecret(r, { graceS: 100 }, at(10));
    assert.equal(r.previousSecrets?.length, 1, "the first old secret ended at +5 s");
    for (let i = 0; i < MAX_PREVIOUS_SECRETS + 3; i++)
      r = rotateRouteSecret(r, { graceS: 1000 + i }, at(20 + i));
    assert.equal(r.previousSecrets?.length, MAX_PREVIOUS_SECRETS);
    const ends = r.previousSecrets?.map((p) => Date.parse(p.expiresAt)) ?? [];
    assert.ok(ends.every((e) => e >= at(1020).getTime()));
  });

  it("under the one-signature schemes the new secret takes over at once", () => {
    for (const scheme of ["emailengine", "stalwart", "hmac-sha256"]) {
      const r = route({ scheme });
      const next = rotateRouteSecret(r, { graceS: 3600 }, at(1));
      assert.match(next.target.signing.secret ?? "", /^[A-Za-z0-9_-]{43}$/, scheme);
      assert.notEqual(next.target.signing.secret, r.target.signing.secret);
      assert.equal(next.previousSecrets, undefined, scheme);
    }
    const given = rotateRouteSecret(
      route({ scheme: "stalwart" }),
      { secret: "any-secret-of-16+", graceS: 0 },
      at(1),
    );
    assert.equal(given.target.signing.secret, "any-secret-of-16+");
  });

  it("refuses a route that is not signed", () => {
    assert.throws(
      () => rotateRouteSecret(route({ scheme: "none" }), { graceS: 60 }, at(1)),
      (err) => err instanceof HookgateError && err.code === "HG_ERR_VALIDATION",
    );
  });
});

describe("applyRoutePatch and signing", () => {
  it("a new scheme drops the hmac-sha256 options and the rotated-out secrets", () => {
    const hmac = route({ scheme: "hmac-sha256", header: "X-Sig", encoding: "base64" });
    const rotated = {
      ...hmac,
      previousSecrets: [{ secret: "old-one-0123456789", expiresAt: at(60).toISOString() }],
    };
    const next = applyRoutePatch(rotated, { target: { signing: { scheme: "stalwart" } } }, at(1));
    assert.deepEqual(Object.keys(next.target.signing).sort(), ["scheme", "secret"]);
    assert.notEqual(next.target.signing.secret, hmac.target.signing.secret);
    assert.equal(next.previousSecrets, undefined);
  });

  it("keeps the rotated-out secrets when the secret does not change", () => {
    const r = { ...route(), previousSecrets: [{ secret: "whsec_x", expiresAt: at(60).toISOString() }] };
    const next = applyRoutePatch(r, { name: "renamed", target: { timeoutMs: 2000 } }, at(1));
    assert.deepEqual(next.previousSecrets, r.previousSecrets);
  });
});
