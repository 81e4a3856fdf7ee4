import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import {
  activeSecrets,
  buildRequest,
  type RenderedPayload,
  signatureHeaderOf,
} from "../../../src/delivery/index.ts";
import { buildRoute, type Route, RouteInSchema } from "../../../src/routing/index.ts";
import { generateSecret } from "../../../src/shared/hmac.ts";

/*
 * Each scheme is checked the way its receivers check it, written here from the published
 * descriptions and not through Hookgate's signing code:
 *   EmailEngine: X-EE-Wh-Signature = createHmac('sha256', serviceSecret).update(rawBody).digest('base64url')
 *   Stalwart:    X-Signature = STANDARD base64 of HMAC-SHA256(signature-key bytes, body)
 *   hmac-sha256: the chosen header = HMAC-SHA256(secret, body) in hex or base64
 */

function receiverHmac(secret: string, rawBody: string, encoding: "hex" | "base64" | "base64url"): string {
  return createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(Buffer.from(rawBody, "utf8"))
    .digest(encoding);
}

function receiverAccepts(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function route(target: Record<string, unknown>, extra: Partial<Route> = {}): Route {
  return {
    ...buildRoute(RouteInSchema.parse({ name: "r", target: { url: "https://example.com/h", ...target } })),
    ...extra,
  };
}

const payload = (body: string): RenderedPayload => ({
  messageId: "dlv_1",
  body,
  contentType: "application/json",
});

// Non-ASCII, a line separator and an emoji: the signature must cover the UTF-8 bytes sent.
const BODY = JSON.stringify({ subject: "Rechnung für Ada ✉️", note: "a\u2028b", n: 1 });

describe("emailengine signing", () => {
  it("sends X-EE-Wh-Signature, base64url HMAC-SHA256 of the exact body", () => {
    const r = route({ signing: { scheme: "emailengine", secret: "ee-service-secret-0123" } });
    const req = buildRequest(r, payload(BODY));
    const given = req.headers["x-ee-wh-signature"];
    assert.ok(receiverAccepts(given, receiverHmac("ee-service-secret-0123", req.body, "base64url")));
    assert.doesNotMatch(given ?? "", /[+/=]/);
    assert.ok(!receiverAccepts(given, receiverHmac("another-secret-0123456", req.body, "base64url")));
    assert.ok(!receiverAccepts(given, receiverHmac("ee-service-secret-0123", `${req.body} `, "base64url")));
    assert.equal(req.headers["webhook-signature"], undefined);
  });

  it("generates a secret of its own kind when none is given", () => {
    const r = route({ signing: { scheme: "emailengine" } });
    assert.match(r.target.signing.secret ?? "", /^[A-Za-z0-9_-]{43}$/);
    const req = buildRequest(r, payload("{}"));
    assert.ok(
      receiverAccepts(
        req.headers["x-ee-wh-signature"],
        receiverHmac(r.target.signing.secret ?? "", "{}", "base64url"),
      ),
    );
  });
});

describe("stalwart signing", () => {
  it("sends X-Signature, padded standard base64 HMAC-SHA256 of the exact body", () => {
    const r = route({ signing: { scheme: "stalwart", secret: "my-secret-key-0123" } });
    const req = buildRequest(r, payload(BODY));
    const given = req.headers["x-signature"];
    assert.ok(receiverAccepts(given, receiverHmac("my-secret-key-0123", req.body, "base64")));
    assert.match(given ?? "", /^[A-Za-z0-9+/]{43}=$/);
  });
});

describe("hmac-sha256 signing", () => {
  it("defaults to x-hookgate-signature in hex", () => {
    const r = route({ signing: { scheme: "hmac-sha256", secret: "hmac-secret-0123456" } });
    const req = buildRequest(r, payload(BODY));
    assert.ok(
      receiverAccepts(
        req.headers["x-hookgate-signature"],
        receiverHmac("hmac-secret-0123456", req.body, "hex"),
      ),
    );
  });

  it("uses the chosen header (any case) and base64", () => {
    const r = route({
      signing: {
        scheme: "hmac-sha256",
        secret: "hmac-secret-0123456",
        header: "X-Mailtrap-Signature",
        encoding: "base64",
      },
    });
    const req = buildRequest(r, payload(BODY));
    assert.equal(req.headers["x-hookgate-signature"], undefined);
    assert.ok(
      receiverAccepts(
        req.headers["x-mailtrap-signature"],
        receiverHmac("hmac-secret-0123456", req.body, "base64"),
      ),
    );
  });

  it("refuses header and encoding on other schemes, and headers that cannot carry a signature", () => {
    for (const signing of [
      { scheme: "stalwart", header: "x-sig" },
      { scheme: "standard-webhooks", encoding: "hex" },
      { scheme: "hmac-sha256", header: "Content-Type" },
      { scheme: "hmac-sha256", header: "authorization" },
    ]) {
      const parsed = RouteInSchema.safeParse({
        name: "r",
        target: { url: "https://example.com/h", signing },
      });
      assert.equal(parsed.success, false, JSON.stringify(signing));
    }
  });
});

describe("signature headers and route headers", () => {
  it("refuses a route header that is the scheme's signature header", () => {
    for (const [signing, header] of [
      [{ scheme: "stalwart" }, "X-Signature"],
      [{ scheme: "emailengine" }, "x-ee-wh-signature"],
      [{ scheme: "hmac-sha256", header: "X-Sig" }, "x-sig"],
    ] as const) {
      const parsed = RouteInSchema.safeParse({
        name: "r",
        target: { url: "https://example.com/h", signing, headers: { [header]: "forged" } },
      });
      assert.equal(parsed.success, false, header);
      assert.deepEqual(parsed.error?.issues[0]?.path, ["target", "headers", header]);
    }
    // The same header name is the user's own under a scheme that does not use it.
    const own = RouteInSchema.safeParse({
      name: "r",
      target: { url: "https://example.com/h", headers: { "X-Signature": "mine" } },
    });
    assert.equal(own.success, true);
  });

  it("names the header each body-only scheme writes", () => {
    assert.equal(signatureHeaderOf({ scheme: "emailengine" }), "x-ee-wh-signature");
    assert.equal(signatureHeaderOf({ scheme: "stalwart" }), "x-signature");
    assert.equal(signatureHeaderOf({ scheme: "hmac-sha256" }), "x-hookgate-signature");
    assert.equal(signatureHeaderOf({ scheme: "hmac-sha256", header: "X-A" }), "x-a");
    assert.equal(signatureHeaderOf({ scheme: "standard-webhooks" }), null);
    assert.equal(signatureHeaderOf({ scheme: "none" }), null);
  });
});

describe("standard-webhooks with rotated-out secrets", () => {
  // The reference verifier allows 5 minutes around the real clock, so "now" is the real one.
  const now = Date.now();
  const [current, old, older, expired] = [
    generateSecret(),
    generateSecret(),
    generateSecret(),
    generateSecret(),
  ];
  const rotated = route(
    { signing: { secret: current } },
    {
      previousSecrets: [
        { secret: old, expiresAt: new Date(now + 60_000).toISOString() },
        { secret: older, expiresAt: new Date(now + 1).toISOString() },
        { secret: expired, expiresAt: new Date(now).toISOString() },
      ],
    },
  );

  it("signs with the current secret and every one whose grace has not ended", () => {
    assert.deepEqual(activeSecrets(rotated, now), [current, old, older]);
    const req = buildRequest(rotated, payload(BODY), now);
    const signatures = req.headers["webhook-signature"]?.split(" ") ?? [];
    assert.equal(signatures.length, 3);
    assert.ok(signatures.every((s) => s.startsWith("v1,")));
    for (const secret of [current, old]) {
      assert.deepEqual(new Webhook(secret).verify(req.body, req.headers), JSON.parse(BODY));
    }
    assert.throws(() => new Webhook(expired).verify(req.body, req.headers));
  });

  it("stops signing with a secret once its grace has ended", () => {
    const later = now + 60_000;
    assert.deepEqual(activeSecrets(rotated, later), [current]);
    const req = buildRequest(rotated, payload(BODY), later);
    assert.equal(req.headers["webhook-signature"]?.split(" ").length, 1);
  });

  it("only Standard Webhooks carries several signatures; the others sign with the current secret", () => {
    const stalwart = route(
      { signing: { scheme: "stalwart", secret: "new-secret-0123456789" } },
      {
        previousSecrets: [
          { secret: "old-secret-0123456789", expiresAt: new Date(now + 60_000).toISOString() },
        ],
      },
    );
    assert.deepEqual(activeSecrets(stalwart, now), ["new-secret-0123456789"]);
    const req = buildRequest(stalwart, payload(BODY), now);
    assert.ok(
      receiverAccepts(req.headers["x-signature"], receiverHmac("new-secret-0123456789", req.body, "base64")),
    );
  });

  it("signs nothing under none", () => {
    const r = route({ signing: { scheme: "none" } });
    assert.deepEqual(activeSecrets(r, now), []);
    const req = buildRequest(r, payload(BODY), now);
    for (const name of [
      "webhook-signature",
      "webhook-id",
      "x-signature",
      "x-ee-wh-signature",
      "x-hookgate-signature",
    ])
      assert.equal(req.headers[name], undefined, name);
  });
});
