import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toRouteOut } from "../../../src/api/route-out.ts";
import {
  buildRequest,
  envRefProblem,
  envRefsIn,
  isRequestBuildError,
  REDACTED,
  type RequestBuildError,
  redactRequest,
  resolveEnvRefs,
} from "../../../src/delivery/index.ts";
import type { HookgateError } from "../../../src/errors.ts";
import { applyRoutePatch, buildRoute, type Route, RouteInSchema } from "../../../src/routing/index.ts";

function route(target: Record<string, unknown>): Route {
  return buildRoute(
    RouteInSchema.parse({
      name: "r",
      target: { url: "https://example.com/h", signing: { scheme: "none" }, ...target },
    }),
  );
}

const payload = { messageId: "dlv_1", body: "{}", contentType: "application/json" };

function buildError(fn: () => unknown): RequestBuildError {
  try {
    fn();
  } catch (err) {
    if (isRequestBuildError(err)) return err;
    throw err;
  }
  assert.fail("expected a RequestBuildError");
}

describe("${ENV_NAME} references", () => {
  it("are resolved from the env object given, anywhere in the value", () => {
    const env = { API_TOKEN: "t0k3n", TEAM: "ops" };
    assert.equal(resolveEnvRefs("Bearer ${API_TOKEN}", env, "h"), "Bearer t0k3n");
    assert.equal(resolveEnvRefs("${TEAM}-${TEAM}/x", env, "h"), "ops-ops/x");
    assert.equal(resolveEnvRefs("no references", env, "h"), "no references");
    assert.deepEqual(envRefsIn("a ${A} b ${_b1}"), ["A", "_b1"]);
  });

  it("throw E_ENV_MISSING naming the field and the variable, never a value", () => {
    const err = buildError(() =>
      resolveEnvRefs("${SET}:${UNSET}", { SET: "visible-value" }, "target.headers.X"),
    );
    assert.equal(err.code, "E_ENV_MISSING");
    assert.match(err.message, /target\.headers\.X/);
    assert.match(err.message, /UNSET/);
    assert.doesNotMatch(err.message, /visible-value/);
    assert.equal(buildError(() => resolveEnvRefs("${EMPTY}", { EMPTY: "" }, "h")).code, "E_ENV_MISSING");
  });

  it("refuse a value that would put a control character in a header", () => {
    const err = buildError(() => resolveEnvRefs("${EVIL}", { EVIL: "a\r\nX-Injected: 1" }, "h"));
    assert.equal(err.code, "E_ENV_INVALID");
    assert.doesNotMatch(err.message, /Injected/);
  });

  it("never reach Hookgate's own settings", () => {
    const env = { HOOKGATE_ADMIN_TOKEN: "admin-secret-token", REDIS_URL: "redis://:pw@127.0.0.1" };
    assert.equal(buildError(() => resolveEnvRefs("${HOOKGATE_ADMIN_TOKEN}", env, "h")).code, "E_ENV_MISSING");
    assert.equal(buildError(() => resolveEnvRefs("${REDIS_URL}", env, "h")).code, "E_ENV_MISSING");
    assert.match(envRefProblem("${REDIS_URL}") ?? "", /Hookgate setting/);
  });

  it("are checked when the route is saved: malformed ones and settings are refused", () => {
    assert.equal(envRefProblem("Bearer ${API_TOKEN}"), null);
    assert.equal(envRefProblem("plain"), null);
    for (const bad of ["${api-token}", "${}", "${UNCLOSED", "x ${1X}"]) {
      assert.ok(envRefProblem(bad), bad);
      const parsed = RouteInSchema.safeParse({
        name: "r",
        target: { url: "https://example.com/h", headers: { "X-Key": bad } },
      });
      assert.equal(parsed.success, false, bad);
    }
    const credential = RouteInSchema.safeParse({
      name: "r",
      target: { url: "https://example.com/h", auth: { type: "bearer", token: "${HOOKGATE_ADMIN_TOKEN}" } },
    });
    assert.equal(credential.success, false);
  });
});

describe("target auth", () => {
  it("bearer becomes Authorization: Bearer <token>, resolved at build time", () => {
    const r = route({ auth: { type: "bearer", token: "${HG_TEST_BEARER}" } });
    const req = buildRequest(r, payload, Date.now(), { HG_TEST_BEARER: "abc.def" });
    assert.equal(req.headers.authorization, "Bearer abc.def");
    assert.equal(r.target.auth?.type === "bearer" && r.target.auth.token, "${HG_TEST_BEARER}");
  });

  it("basic becomes base64 of user:password (RFC 7617), UTF-8", () => {
    const r = route({ auth: { type: "basic", username: "hook", password: "${HG_TEST_PW}" } });
    const req = buildRequest(r, payload, Date.now(), { HG_TEST_PW: "pä:ss" });
    const [scheme, encoded] = (req.headers.authorization ?? "").split(" ");
    assert.equal(scheme, "Basic");
    assert.equal(Buffer.from(encoded ?? "", "base64").toString("utf8"), "hook:pä:ss");
    const noColon = RouteInSchema.safeParse({
      name: "r",
      target: { url: "https://example.com/h", auth: { type: "basic", username: "a:b", password: "p" } },
    });
    assert.equal(noColon.success, false);
  });

  it("a missing variable in a credential is E_ENV_MISSING naming the field", () => {
    const r = route({ auth: { type: "bearer", token: "${HG_TEST_NOT_SET}" } });
    const err = buildError(() => buildRequest(r, payload, Date.now(), {}));
    assert.equal(err.code, "E_ENV_MISSING");
    assert.match(err.message, /target\.auth\.token.*HG_TEST_NOT_SET/);
  });

  it("cannot be given beside an Authorization header", () => {
    const parsed = RouteInSchema.safeParse({
      name: "r",
      target: {
        url: "https://example.com/h",
        headers: { AUTHORIZATION: "Bearer x" },
        auth: { type: "bearer", token: "y-token" },
      },
    });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ["target", "headers", "AUTHORIZATION"]);
  });
});

describe("what answers show of credentials", () => {
  const r = route({
    headers: {
      Authorization: "Bearer ${HG_TEST_TOKEN}",
      "X-Api-Key": "literal-key-1",
      "X-Token": "${HG_TEST_TOKEN}",
      "X-Tenant": "${HG_TEST_TENANT}",
      "X-Team": "ops",
      "X-Auth": "literal-auth",
      "X-Session": "literal-session",
      "X-Key": "literal-key-2",
      "X-Hub-Signature": "sha1=literal-sig",
      "X-Region": "eu",
    },
    publicHeaders: ["x-team", "X-Region"],
    auth: null,
  });
  const env = { HG_TEST_TOKEN: "resolved-token", HG_TEST_TENANT: "resolved-tenant" };

  it("the dry-run's request shows references unresolved and every literal not declared public redacted", () => {
    const req = buildRequest(r, payload, Date.now(), env);
    assert.equal(req.headers["x-tenant"], "resolved-tenant");
    const shown = redactRequest(req, r.target);
    assert.equal(shown.headers.authorization, "Bearer ${HG_TEST_TOKEN}");
    assert.equal(shown.headers["x-api-key"], REDACTED);
    assert.equal(shown.headers["x-token"], "${HG_TEST_TOKEN}");
    assert.equal(shown.headers["x-tenant"], "${HG_TEST_TENANT}");
    assert.equal(shown.headers["x-team"], "ops");
    assert.equal(shown.headers["x-region"], "eu");
    for (const name of ["x-auth", "x-session", "x-key", "x-hub-signature"]) {
      assert.equal(shown.headers[name], REDACTED, name);
    }
    assert.doesNotMatch(JSON.stringify(shown), /resolved-|literal-/);
  });

  it("the route API shows the same", () => {
    const out = toRouteOut(r);
    assert.deepEqual(out.target.headers, {
      Authorization: "Bearer ${HG_TEST_TOKEN}",
      "X-Api-Key": REDACTED,
      "X-Token": "${HG_TEST_TOKEN}",
      "X-Tenant": "${HG_TEST_TENANT}",
      "X-Team": "ops",
      "X-Auth": REDACTED,
      "X-Session": REDACTED,
      "X-Key": REDACTED,
      "X-Hub-Signature": REDACTED,
      "X-Region": "eu",
    });
    assert.deepEqual(out.target.publicHeaders, ["x-team", "X-Region"]);
  });

  it("a PATCH that sends the redacted value back keeps the stored one", () => {
    const shown = toRouteOut(r).target;
    const patched = applyRoutePatch(r, {
      target: { headers: { ...shown.headers, "x-auth": REDACTED, "X-Team": "dev" } },
    });
    assert.deepEqual(patched.target.headers, {
      ...r.target.headers,
      "x-auth": "literal-auth",
      "X-Team": "dev",
    });
    const bearer = route({ auth: { type: "bearer", token: "literal-token" } });
    const kept = applyRoutePatch(bearer, { target: { auth: { type: "bearer", token: REDACTED } } });
    assert.deepEqual(kept.target.auth, { type: "bearer", token: "literal-token" });
    const basic = route({ auth: { type: "basic", username: "u", password: "literal-pw" } });
    const renamed = applyRoutePatch(basic, {
      target: { auth: { type: "basic", username: "v", password: REDACTED } },
    });
    assert.deepEqual(renamed.target.auth, { type: "basic", username: "v", password: "literal-pw" });
  });

  it("a redacted value with nothing stored under its name is a 400", () => {
    for (const target of [
      { headers: { "X-New": REDACTED } },
      { auth: { type: "basic" as const, username: "u", password: REDACTED } },
    ]) {
      assert.throws(
        () => applyRoutePatch(r, { target }),
        (err: HookgateError) => err.code === "HG_ERR_VALIDATION" && /nothing is stored/.test(err.message),
      );
    }
  });

  it("auth: references shown, literal secrets redacted, in both", () => {
    const bearer = route({ auth: { type: "bearer", token: "literal-token" } });
    assert.deepEqual(toRouteOut(bearer).target.auth, { type: "bearer", token: REDACTED });
    const viaEnv = route({ auth: { type: "bearer", token: "${HG_TEST_TOKEN}" } });
    assert.deepEqual(toRouteOut(viaEnv).target.auth, { type: "bearer", token: "${HG_TEST_TOKEN}" });
    const shownBearer = redactRequest(buildRequest(viaEnv, payload, Date.now(), env), viaEnv.target);
    assert.equal(shownBearer.headers.authorization, "Bearer ${HG_TEST_TOKEN}");
    const basic = route({ auth: { type: "basic", username: "u", password: "literal-pw" } });
    assert.deepEqual(toRouteOut(basic).target.auth, { type: "basic", username: "u", password: REDACTED });
    const shownBasic = redactRequest(buildRequest(basic, payload, Date.now(), env), basic.target);
    assert.equal(shownBasic.headers.authorization, `Basic ${REDACTED}`);
    // Rotation answers show the new secret but not the credentials.
    assert.deepEqual(toRouteOut(basic, true, { credentials: false }).target.auth, {
      type: "basic",
      username: "u",
      password: REDACTED,
    });
  });
});
