import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { beforeEach, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { useGateway } from "../helpers/fixture.ts";
import type { SinkRequest } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * Every signature scheme through the real gateway to the loopback sink, each checked the way its
 * receivers check it: Standard Webhooks with the standardwebhooks package, the others with the
 * HMAC their documentation describes, written here (not Hookgate's code).
 */

const fx = useGateway();
beforeEach(() => fx.reset());

// Read by the gateway when it builds each request; never to be seen in an API answer.
const ENV = {
  HG_E2E_BEARER: "e2e-bearer-0f3c9a",
  HG_E2E_TENANT: "e2e-tenant-77d1",
  HG_E2E_PASSWORD: "e2e-pass:w0rd",
};
Object.assign(process.env, ENV);
const RESOLVED = new RegExp(Object.values(ENV).join("|"));

async function createRoute(fields: Record<string, unknown> = {}, target: Record<string, unknown> = {}) {
  const res = await fx.gw.call("POST", "/v1/routes", {
    name: "r",
    retry: { scheduleMs: [50, 50] },
    ...fields,
    target: { url: fx.sink.url(), ...target },
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;
}

const event = { type: "messageNew", data: { subject: "Rechnung für Ada ✉️ & co", size: 1043 } };

async function deliverOne(): Promise<SinkRequest> {
  const before = fx.sink.requests.length;
  assert.equal((await fx.gw.call("POST", "/v1/events", event)).status, 202);
  const requests = await fx.sink.waitFor(before + 1);
  const req = requests[before];
  assert.ok(req);
  return req;
}

function webhookHeaders(h: IncomingHttpHeaders): Record<string, string> {
  return {
    "webhook-id": String(h["webhook-id"]),
    "webhook-timestamp": String(h["webhook-timestamp"]),
    "webhook-signature": String(h["webhook-signature"]),
  };
}

/** What a receiver computes: HMAC-SHA256 over the raw body bytes, keyed by the secret's bytes. */
function receiverHmac(secret: string, raw: string, encoding: "hex" | "base64" | "base64url"): string {
  return createHmac("sha256", Buffer.from(secret, "utf8")).update(Buffer.from(raw, "utf8")).digest(encoding);
}

function sameString(given: unknown, expected: string): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

describe("standard-webhooks secret rotation", () => {
  it("signs with the old and the new secret during the grace, and shows the new one only once", async () => {
    const route = await createRoute();
    const oldSecret: string = route.target.signing.secret;
    const first = await deliverOne();
    assert.ok(new Webhook(oldSecret).verify(first.body, webhookHeaders(first.headers)));

    const rotated = await fx.gw.call("POST", `/v1/routes/${route.id}/secret/rotate`, { graceS: 3600 });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.json));
    const newSecret: string = rotated.json.target.signing.secret;
    assert.match(newSecret, /^whsec_/);
    assert.notEqual(newSecret, oldSecret);
    assert.equal(rotated.json.version, route.version + 1);
    const graceEnd = Date.parse(rotated.json.secretRotation.previousSecretExpiresAt);
    assert.ok(graceEnd > Date.now() + 3500 * 1000 && graceEnd <= Date.now() + 3600 * 1000);
    assert.equal(JSON.stringify(rotated.json).includes(oldSecret), false);

    const fetched = await fx.gw.call("GET", `/v1/routes/${route.id}`);
    assert.equal(fetched.json.target.signing.secret, undefined);
    assert.equal(
      fetched.json.secretRotation.previousSecretExpiresAt,
      rotated.json.secretRotation.previousSecretExpiresAt,
    );
    assert.equal(JSON.stringify(fetched.json).includes(newSecret), false);

    const during = await deliverOne();
    const headers = webhookHeaders(during.headers);
    assert.equal(headers["webhook-signature"]?.split(" ").length, 2);
    assert.deepEqual(
      new Webhook(newSecret).verify(during.body, headers),
      new Webhook(oldSecret).verify(during.body, headers),
    );
    assert.throws(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 1).toString("base64")}`).verify(during.body, headers),
    );
  });

  it("stops signing with the old secret once the grace is over", async () => {
    const route = await createRoute();
    const oldSecret: string = route.target.signing.secret;
    const rotated = await fx.gw.call("POST", `/v1/routes/${route.id}/secret/rotate`, { graceS: 1 });
    assert.equal(rotated.status, 200);
    const newSecret: string = rotated.json.target.signing.secret;
    const graceEnd = Date.parse(rotated.json.secretRotation.previousSecretExpiresAt);
    await waitUntil(() => Date.now() > graceEnd + 50, 10_000, "the grace to end");

    const after = await deliverOne();
    const headers = webhookHeaders(after.headers);
    assert.equal(headers["webhook-signature"]?.split(" ").length, 1);
    assert.ok(new Webhook(newSecret).verify(after.body, headers));
    assert.throws(() => new Webhook(oldSecret).verify(after.body, headers));
    const fetched = await fx.gw.call("GET", `/v1/routes/${route.id}`);
    assert.equal(fetched.json.secretRotation, undefined);
  });

  it("takes a given secret, with no body defaults to 24 h, and answers 404 and 400 as it should", async () => {
    const route = await createRoute();
    const given = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
    const withGiven = await fx.gw.call("POST", `/v1/routes/${route.id}/secret/rotate`, {
      secret: given,
      graceS: 0,
    });
    assert.equal(withGiven.status, 200);
    assert.equal(withGiven.json.target.signing.secret, given);
    assert.equal(withGiven.json.secretRotation, undefined);
    const req = await deliverOne();
    assert.ok(new Webhook(given).verify(req.body, webhookHeaders(req.headers)));
    assert.throws(() =>
      new Webhook(route.target.signing.secret).verify(req.body, webhookHeaders(req.headers)),
    );

    const noBody = await fx.gw.call("POST", `/v1/routes/${route.id}/secret/rotate`);
    assert.equal(noBody.status, 200, JSON.stringify(noBody.json));
    const dayLater = Date.parse(noBody.json.secretRotation.previousSecretExpiresAt) - Date.now();
    assert.ok(dayLater > 86_000 * 1000 && dayLater <= 86_400 * 1000);

    const unknown = await fx.gw.call("POST", "/v1/routes/rte_nope/secret/rotate", {});
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, "HG_ERR_NOT_FOUND");
    const badSecret = await fx.gw.call("POST", `/v1/routes/${route.id}/secret/rotate`, {
      secret: "0123456789abcdef0",
    });
    assert.equal(badSecret.status, 400);
    const tooLong = await fx.gw.call("POST", `/v1/routes/${route.id}/secret/rotate`, { graceS: 8 * 86_400 });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.json.error.details[0].path, "graceS");
    const unsigned = await createRoute({}, { signing: { scheme: "none" } });
    const none = await fx.gw.call("POST", `/v1/routes/${unsigned.id}/secret/rotate`, {});
    assert.equal(none.status, 400);
    assert.equal(none.json.error.code, "HG_ERR_VALIDATION");
  });

  it("is documented in the OpenAPI document", async () => {
    const doc = await fx.gw.call("GET", "/openapi.json");
    const op = doc.json.paths["/v1/routes/{id}/secret/rotate"]?.post;
    assert.ok(op, "rotate endpoint in /openapi.json");
    assert.ok(op.summary);
    assert.ok(JSON.stringify(doc.json).includes("graceS"));
  });
});

describe("body signatures of the email systems", () => {
  it("emailengine: X-EE-Wh-Signature is base64url HMAC-SHA256 of the raw body", async () => {
    const secret = "ee-service-secret-for-e2e";
    const route = await createRoute({}, { signing: { scheme: "emailengine", secret } });
    assert.equal(route.target.signing.secret, secret);
    const req = await deliverOne();
    assert.ok(sameString(req.headers["x-ee-wh-signature"], receiverHmac(secret, req.body, "base64url")));
    assert.ok(
      !sameString(req.headers["x-ee-wh-signature"], receiverHmac(`${secret}x`, req.body, "base64url")),
    );
    assert.equal(req.headers["webhook-signature"], undefined);
    assert.equal(JSON.parse(req.body).data.subject, event.data.subject);
  });

  it("stalwart: X-Signature is padded base64 HMAC-SHA256 of the raw body, with a generated secret", async () => {
    const route = await createRoute({}, { signing: { scheme: "stalwart" } });
    const secret: string = route.target.signing.secret;
    assert.ok(secret.length >= 32);
    const req = await deliverOne();
    assert.match(String(req.headers["x-signature"]), /^[A-Za-z0-9+/]{43}=$/);
    assert.ok(sameString(req.headers["x-signature"], receiverHmac(secret, req.body, "base64")));
  });

  it("hmac-sha256: the chosen header, hex by default or base64", async () => {
    const secret = "hmac-secret-for-e2e-01";
    await createRoute({ name: "hex" }, { signing: { scheme: "hmac-sha256", secret } });
    const hex = await deliverOne();
    assert.ok(sameString(hex.headers["x-hookgate-signature"], receiverHmac(secret, hex.body, "hex")));
    await fx.reset();
    await createRoute(
      { name: "b64" },
      { signing: { scheme: "hmac-sha256", secret, header: "X-Mailtrap-Signature", encoding: "base64" } },
    );
    const b64 = await deliverOne();
    assert.equal(b64.headers["x-hookgate-signature"], undefined);
    assert.ok(sameString(b64.headers["x-mailtrap-signature"], receiverHmac(secret, b64.body, "base64")));
  });

  it("rotation under a one-signature scheme switches at once", async () => {
    const route = await createRoute({}, { signing: { scheme: "stalwart" } });
    const rotated = await fx.gw.call("POST", `/v1/routes/${route.id}/secret/rotate`, { graceS: 3600 });
    assert.equal(rotated.status, 200);
    assert.equal(rotated.json.secretRotation, undefined);
    const req = await deliverOne();
    assert.ok(
      sameString(
        req.headers["x-signature"],
        receiverHmac(rotated.json.target.signing.secret, req.body, "base64"),
      ),
    );
    assert.ok(
      !sameString(req.headers["x-signature"], receiverHmac(route.target.signing.secret, req.body, "base64")),
    );
  });
});

describe("target auth and ${ENV} headers", () => {
  it("arrive resolved at the sink and never appear in an API answer", async () => {
    const bearer = await createRoute(
      { name: "bearer" },
      {
        headers: { "X-Tenant": "${HG_E2E_TENANT}", "X-Team": "ops" },
        auth: { type: "bearer", token: "${HG_E2E_BEARER}" },
      },
    );
    const req = await deliverOne();
    assert.equal(req.headers.authorization, `Bearer ${ENV.HG_E2E_BEARER}`);
    assert.equal(req.headers["x-tenant"], ENV.HG_E2E_TENANT);
    assert.equal(req.headers["x-team"], "ops");
    assert.ok(new Webhook(bearer.target.signing.secret).verify(req.body, webhookHeaders(req.headers)));

    await createRoute(
      { name: "basic" },
      { auth: { type: "basic", username: "hook", password: "${HG_E2E_PASSWORD}" } },
    );
    const both = await deliverOne();
    await fx.sink.waitFor(3);
    const basic = fx.sink.requests.slice(1).find((r) => String(r.headers.authorization).startsWith("Basic "));
    assert.ok(basic, JSON.stringify(both.headers));
    const decoded = Buffer.from(String(basic.headers.authorization).slice(6), "base64").toString("utf8");
    assert.equal(decoded, `hook:${ENV.HG_E2E_PASSWORD}`);

    const answers = [
      await fx.gw.call("GET", "/v1/routes"),
      await fx.gw.call("GET", `/v1/routes/${bearer.id}`),
      await fx.gw.call("POST", "/v1/dry-run", { event }),
      await fx.gw.call("POST", `/v1/routes/${bearer.id}/secret/rotate`, {}),
      await fx.gw.call("PATCH", `/v1/routes/${bearer.id}`, { target: { timeoutMs: 5000 } }),
      await fx.gw.call("GET", "/v1/deliveries"),
    ];
    for (const a of answers) {
      assert.ok(a.status < 300, JSON.stringify(a.json));
      assert.doesNotMatch(JSON.stringify(a.json), RESOLVED);
    }
    const dry = answers[2]?.json.results.find((r: { routeId: string }) => r.routeId === bearer.id);
    assert.equal(dry.request.headers.authorization, "Bearer ${HG_E2E_BEARER}");
    assert.equal(dry.request.headers["x-tenant"], "${HG_E2E_TENANT}");
    assert.equal(answers[1]?.json.target.auth.token, "${HG_E2E_BEARER}");
  });

  it("a variable that is not set fails the request, named, in the dry-run and the test call", async () => {
    const route = await createRoute({}, { headers: { "X-Key": "${HG_E2E_NOT_SET}" } });
    const dry = await fx.gw.call("POST", "/v1/dry-run", { event, routeId: route.id });
    const [result] = dry.json.results;
    assert.equal(result.request, null);
    assert.equal(result.error.code, "E_ENV_MISSING");
    assert.match(result.error.message, /HG_E2E_NOT_SET/);
    const tested = await fx.gw.call("POST", `/v1/routes/${route.id}/test`);
    assert.equal(tested.status, 200);
    assert.equal(tested.json.statusCode, null);
    assert.equal(tested.json.error.code, "E_ENV_MISSING");
    assert.equal(fx.sink.requests.length, 0);
  });

  it("refuses Authorization in headers beside auth, on create and on PATCH, and Hookgate's own settings", async () => {
    const both = await fx.gw.call("POST", "/v1/routes", {
      name: "r",
      target: {
        url: fx.sink.url(),
        headers: { Authorization: "Bearer x" },
        auth: { type: "bearer", token: "y-token" },
      },
    });
    assert.equal(both.status, 400);
    assert.equal(both.json.error.details[0].path, "target.headers.Authorization");
    const route = await createRoute({}, { headers: { authorization: "Bearer x" } });
    const patched = await fx.gw.call("PATCH", `/v1/routes/${route.id}`, {
      target: { auth: { type: "bearer", token: "y-token" } },
    });
    assert.equal(patched.status, 400);
    assert.equal(patched.json.error.code, "HG_ERR_VALIDATION");
    assert.equal(patched.json.error.details[0].path, "target.headers.authorization");
    const setting = await fx.gw.call("POST", "/v1/routes", {
      name: "r",
      target: { url: fx.sink.url(), headers: { "X-Leak": "${HOOKGATE_ADMIN_TOKEN}" } },
    });
    assert.equal(setting.status, 400);
    const scheme = await fx.gw.call("PATCH", `/v1/routes/${route.id}`, {
      target: { signing: { scheme: "stalwart", header: "X-Sig" } },
    });
    assert.equal(scheme.status, 400);
  });
});

describe("form bodies", () => {
  it("arrive as application/x-www-form-urlencoded that URLSearchParams reads, signed over the encoded bytes", async () => {
    const secret = "form-secret-for-e2e-01";
    await createRoute(
      {
        template: {
          kind: "json",
          body: '{"subject": "{{data.subject}}", "size": {{data.size}}, "seen": true, "cc": null, "meta": {"a": [1, "x"]}}',
        },
      },
      { format: "form", signing: { scheme: "hmac-sha256", secret } },
    );
    const req = await deliverOne();
    assert.equal(req.headers["content-type"], "application/x-www-form-urlencoded");
    const form = new URLSearchParams(req.body);
    assert.equal(form.get("subject"), event.data.subject);
    assert.equal(form.get("size"), "1043");
    assert.equal(form.get("seen"), "true");
    assert.equal(form.get("cc"), "");
    assert.deepEqual(JSON.parse(form.get("meta") ?? ""), { a: [1, "x"] });
    assert.ok(sameString(req.headers["x-hookgate-signature"], receiverHmac(secret, req.body, "hex")));
  });

  it("refuses a text template at save time, and a body that is not an object when it is built", async () => {
    const text = await fx.gw.call("POST", "/v1/routes", {
      name: "r",
      template: { kind: "text", body: "hello {{type}}" },
      target: { url: fx.sink.url(), format: "form" },
    });
    assert.equal(text.status, 400);
    assert.equal(text.json.error.details[0].path, "target.format");
    const textRoute = await createRoute({ template: { kind: "text", body: "hello {{type}}" } });
    const patched = await fx.gw.call("PATCH", `/v1/routes/${textRoute.id}`, { target: { format: "form" } });
    assert.equal(patched.status, 400);

    const list = await createRoute({ map: "export default (e) => [e.type]" }, { format: "form" });
    const dry = await fx.gw.call("POST", "/v1/dry-run", { event, routeId: list.id });
    const [result] = dry.json.results;
    assert.equal(result.request, null);
    assert.equal(result.error.code, "E_FORM_BODY");
  });
});
