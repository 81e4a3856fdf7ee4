import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { buildRequest, standardWebhooksHeaders } from "../../../src/delivery/index.ts";
import { buildRoute, RouteInSchema } from "../../../src/routing/index.ts";
import { generateSecret } from "../../../src/shared/hmac.ts";

describe("Standard Webhooks signing", () => {
  it("produces headers the reference verifier accepts", () => {
    const secret = generateSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ hello: "wörld", line: "a\u2028b" });
    const headers = standardWebhooksHeaders([secret], "msg_1", Math.floor(Date.now() / 1000), body);
    assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
    assert.throws(() => new Webhook(generateSecret()).verify(body, headers));
    assert.throws(() => new Webhook(secret).verify(`${body} `, headers));
  });

  it("signs with every given secret, space-separated (rotation)", () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const body = "{}";
    const headers = standardWebhooksHeaders([a, b], "msg_2", Math.floor(Date.now() / 1000), body);
    assert.equal(headers["webhook-signature"]?.split(" ").length, 2);
    assert.deepEqual(new Webhook(a).verify(body, headers), {});
    assert.deepEqual(new Webhook(b).verify(body, headers), {});
  });

  it("builds the exact request: route headers, content type, signature over the body", () => {
    const route = buildRoute(
      RouteInSchema.parse({
        name: "r",
        target: { url: "https://example.com/h", method: "PUT", headers: { "X-Team": "ops" } },
      }),
    );
    const req = buildRequest(route, { messageId: "dlv_1", body: '{"a":1}', contentType: "application/json" });
    assert.equal(req.method, "PUT");
    assert.equal(req.url, "https://example.com/h");
    assert.equal(req.headers["x-team"], "ops");
    assert.equal(req.headers["webhook-id"], "dlv_1");
    assert.deepEqual(new Webhook(route.target.signing.secret ?? "").verify(req.body, req.headers), { a: 1 });
  });

  it("leaves requests unsigned when the route says none", () => {
    const route = buildRoute(
      RouteInSchema.parse({
        name: "r",
        target: { url: "https://example.com/h", signing: { scheme: "none" } },
      }),
    );
    assert.equal(route.target.signing.secret, undefined);
    const req = buildRequest(route, { messageId: "dlv_1", body: "{}", contentType: "application/json" });
    assert.equal(req.headers["webhook-signature"], undefined);
  });
});
