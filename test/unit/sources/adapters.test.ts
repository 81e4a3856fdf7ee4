import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { HookgateError } from "../../../src/errors.ts";
import {
  authenticate,
  buildSource,
  eventsFromRequest,
  type Source,
  type SourceIn,
} from "../../../src/sources/index.ts";

const now = new Date("2025-05-14T12:00:00.000Z");
const hmac = (key: string, body: string, enc: "base64" | "base64url" | "hex") =>
  createHmac("sha256", key).update(body).digest(enc);

function source(input: Partial<SourceIn> & Pick<SourceIn, "kind">): Source {
  return buildSource({ name: "s", ...input }, now);
}

function req(body: unknown, headers: IncomingHttpHeaders = {}) {
  const raw = Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  return { raw, headers };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HookgateError, String(err));
    return err.code;
  }
  return "no error";
}

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

describe("source credentials", () => {
  it("generates what each kind needs and refuses what it cannot use", () => {
    assert.match(source({ kind: "emailengine" }).secret ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.match(source({ kind: "standard-webhooks" }).secret ?? "", /^whsec_/);
    assert.equal(source({ kind: "mailpilot" }).auth?.type, "header");
    assert.equal(source({ kind: "generic" }).auth, null);
    assert.equal(source({ kind: "generic" }).secret, null);
    assert.equal(
      code(() => source({ kind: "mailslurp", auth: null })),
      "HG_ERR_VALIDATION",
    );
    assert.equal(
      code(() => source({ kind: "mailpilot", secret: "abcdefghijk" })),
      "HG_ERR_VALIDATION",
    );
    assert.equal(
      code(() => source({ kind: "emailengine", secret: null })),
      "HG_ERR_VALIDATION",
    );
    assert.equal(
      code(() => source({ kind: "standard-webhooks", secret: "not-a-whsec-secret" })),
      "HG_ERR_VALIDATION",
    );
    const basicOnly = source({
      kind: "stalwart",
      secret: null,
      auth: { type: "basic", username: "u", password: "p" },
    });
    assert.equal(basicOnly.secret, null);
  });
});

describe("EmailEngine", () => {
  const s = source({ kind: "emailengine", secret: "ee-service-secret" });
  const body = JSON.stringify({
    account: "acme",
    date: "2025-05-14T10:00:00.000Z",
    event: "messageNew",
    eventId: "ev-1",
    data: { subject: "Hi" },
  });

  it("takes a valid X-EE-Wh-Signature (base64url HMAC of the raw body) and normalises", () => {
    const [e, ...rest] = eventsFromRequest(
      s,
      req(body, { "x-ee-wh-signature": hmac("ee-service-secret", body, "base64url") }),
      now,
    );
    assert.equal(rest.length, 0);
    assert.equal(e?.id, `${s.id}:ev-1`);
    assert.equal(e?.type, "messageNew");
    assert.equal(e?.source, s.id);
    assert.equal(e?.sourceKind, "emailengine");
    assert.equal(e?.account, "acme");
    assert.equal(e?.occurredAt, "2025-05-14T10:00:00.000Z");
    assert.deepEqual(e?.data, JSON.parse(body));
  });

  it("refuses a wrong, a standard-base64 of another key, or a missing signature", () => {
    assert.equal(
      code(() =>
        eventsFromRequest(s, req(body, { "x-ee-wh-signature": hmac("other", body, "base64url") }), now),
      ),
      "HG_ERR_UNAUTHORIZED",
    );
    assert.equal(
      code(() => eventsFromRequest(s, req(body), now)),
      "HG_ERR_UNAUTHORIZED",
    );
    // Signature of a different body (one byte changed)
    const sig = hmac("ee-service-secret", `${body} `, "base64url");
    assert.equal(
      code(() => eventsFromRequest(s, req(body, { "x-ee-wh-signature": sig }), now)),
      "HG_ERR_UNAUTHORIZED",
    );
  });

  it("checks the signature before parsing, then answers malformed JSON and wrong shapes with 400", () => {
    const bad = "{not json";
    assert.equal(
      code(() => eventsFromRequest(s, req(bad), now)),
      "HG_ERR_UNAUTHORIZED",
    );
    assert.equal(
      code(() =>
        eventsFromRequest(
          s,
          req(bad, { "x-ee-wh-signature": hmac("ee-service-secret", bad, "base64url") }),
          now,
        ),
      ),
      "HG_ERR_BAD_JSON",
    );
    const noType = JSON.stringify({ account: "a" });
    assert.equal(
      code(() =>
        eventsFromRequest(
          s,
          req(noType, { "x-ee-wh-signature": hmac("ee-service-secret", noType, "base64url") }),
          now,
        ),
      ),
      "HG_ERR_VALIDATION",
    );
  });
});

describe("Stalwart", () => {
  const body = JSON.stringify({
    events: [
      { id: "st-1", createdAt: "2025-05-14T10:00:00Z", type: "auth.success", data: { accountName: "john" } },
      {
        id: "st-2",
        createdAt: "2025-05-14T10:00:01Z",
        type: "message-ingest.ham",
        data: { accountName: "jane" },
      },
    ],
  });

  it("takes X-Signature (standard base64) and turns a batch into one event each", () => {
    const s = source({ kind: "stalwart", secret: "stalwart-key" });
    const events = eventsFromRequest(
      s,
      req(body, { "x-signature": hmac("stalwart-key", body, "base64") }),
      now,
    );
    assert.deepEqual(
      events.map((e) => [e.id, e.type, e.account, e.occurredAt]),
      [
        [`${s.id}:st-1`, "auth.success", "john", "2025-05-14T10:00:00.000Z"],
        [`${s.id}:st-2`, "message-ingest.ham", "jane", "2025-05-14T10:00:01.000Z"],
      ],
    );
    assert.equal(
      code(() =>
        eventsFromRequest(s, req(body, { "x-signature": `${hmac("stalwart-key", body, "base64")}x` }), now),
      ),
      "HG_ERR_UNAUTHORIZED",
    );
    assert.equal(
      code(() => eventsFromRequest(s, req(body), now)),
      "HG_ERR_UNAUTHORIZED",
    );
  });

  it("takes basic auth alone, or requires both when both are configured", () => {
    const auth = { type: "basic" as const, username: "account", password: "password" };
    const only = source({ kind: "stalwart", secret: null, auth });
    assert.equal(authenticate(only, req(body, { authorization: basic("account", "password") }), now), true);
    assert.equal(authenticate(only, req(body, { authorization: basic("account", "wrong") }), now), false);
    assert.equal(authenticate(only, req(body), now), false);
    const both = source({ kind: "stalwart", secret: "k-123456", auth });
    const sig = hmac("k-123456", body, "base64");
    assert.equal(
      authenticate(both, req(body, { authorization: basic("account", "password"), "x-signature": sig }), now),
      true,
    );
    assert.equal(authenticate(both, req(body, { "x-signature": sig }), now), false);
    assert.equal(authenticate(both, req(body, { authorization: basic("account", "password") }), now), false);
  });
});

describe("Mailtrap", () => {
  const s = source({ kind: "mailtrap", secret: "mailtrap-signing-secret" });
  const body = JSON.stringify({
    events: [
      {
        event: "delivery",
        timestamp: 1728669700,
        message_id: "m-1",
        email: "r@example.com",
        event_id: "e-1",
      },
      {
        event: "soft bounce",
        timestamp: 1728669760,
        message_id: "m-1",
        email: "r@example.com",
        event_id: "e-2",
      },
    ],
  });

  it("takes X-Mailtrap-Signature (hex, either case) and normalises each event", () => {
    const sig = hmac("mailtrap-signing-secret", body, "hex");
    for (const given of [sig, sig.toUpperCase()]) {
      const events = eventsFromRequest(s, req(body, { "x-mailtrap-signature": given }), now);
      assert.deepEqual(
        events.map((e) => [e.id, e.type, e.account, e.occurredAt]),
        [
          [`${s.id}:e-1`, "delivery", null, "2024-10-11T18:01:40.000Z"],
          [`${s.id}:e-2`, "soft bounce", null, "2024-10-11T18:02:40.000Z"],
        ],
      );
    }
    assert.equal(
      code(() => eventsFromRequest(s, req(body, { "x-mailtrap-signature": hmac("x", body, "hex") }), now)),
      "HG_ERR_UNAUTHORIZED",
    );
    assert.equal(
      code(() => eventsFromRequest(s, req(body), now)),
      "HG_ERR_UNAUTHORIZED",
    );
  });

  it("answers 400 for a body that is not a batch", () => {
    const one = JSON.stringify({ event: "delivery" });
    const sig = hmac("mailtrap-signing-secret", one, "hex");
    assert.equal(
      code(() => eventsFromRequest(s, req(one, { "x-mailtrap-signature": sig }), now)),
      "HG_ERR_VALIDATION",
    );
  });
});

describe("MailSlurp and Mailpilot (basic auth or a header token)", () => {
  const slurp = {
    messageId: "38547638",
    webhookId: "w-1",
    eventName: "NEW_EMAIL",
    inboxId: "inbox-1",
    createdAt: "2025-05-14T10:00:00.000Z",
    subject: "Hi",
  };

  it("MailSlurp by basic auth: eventName, messageId, inboxId, createdAt", () => {
    const s = source({ kind: "mailslurp", auth: { type: "basic", username: "hook", password: "pw-123" } });
    const [e] = eventsFromRequest(s, req(slurp, { authorization: basic("hook", "pw-123") }), now);
    assert.equal(e?.id, `${s.id}:38547638`);
    assert.equal(e?.type, "NEW_EMAIL");
    assert.equal(e?.account, "inbox-1");
    assert.equal(e?.occurredAt, "2025-05-14T10:00:00.000Z");
    assert.equal(
      code(() => eventsFromRequest(s, req(slurp, { authorization: basic("hook", "nope") }), now)),
      "HG_ERR_UNAUTHORIZED",
    );
    assert.equal(
      code(() => eventsFromRequest(s, req(slurp), now)),
      "HG_ERR_UNAUTHORIZED",
    );
  });

  it("MailSlurp falls back on the x-event and x-message-id headers", () => {
    const s = source({
      kind: "mailslurp",
      auth: { type: "header", name: "x-hook-token", value: "tok-123456" },
    });
    const body = { subject: "Hi" };
    const [e] = eventsFromRequest(
      s,
      req(body, { "x-hook-token": "tok-123456", "x-event": "EMAIL_READ", "x-message-id": "99" }),
      now,
    );
    assert.equal(e?.type, "EMAIL_READ");
    assert.equal(e?.id, `${s.id}:99`);
  });

  it("Mailpilot by the generated bearer token; the id is a hash, stable across redeliveries", () => {
    const s = source({ kind: "mailpilot" });
    const token = s.auth?.type === "header" ? s.auth.value : "";
    const body = {
      event: "email_processed",
      timestamp: "2026-01-14T10:30:00.000Z",
      account: "personal",
      subject: "S",
    };
    const [a] = eventsFromRequest(s, req(body, { authorization: token }), now);
    const [b] = eventsFromRequest(s, req(body, { authorization: token }), now);
    assert.equal(a?.type, "email_processed");
    assert.equal(a?.account, "personal");
    assert.equal(a?.occurredAt, "2026-01-14T10:30:00.000Z");
    assert.match(a?.id ?? "", new RegExp(`^${s.id}:h_[0-9a-f]{40}$`));
    assert.equal(a?.id, b?.id);
    assert.equal(
      code(() => eventsFromRequest(s, req(body, { authorization: "Bearer wrong-token" }), now)),
      "HG_ERR_UNAUTHORIZED",
    );
    assert.equal(
      code(() => eventsFromRequest(s, req(body), now)),
      "HG_ERR_UNAUTHORIZED",
    );
  });
});

describe("Standard Webhooks", () => {
  const s = source({ kind: "standard-webhooks" });
  const wh = new Webhook(s.secret ?? "");
  const body = JSON.stringify({
    type: "message.received",
    timestamp: "2025-05-14T10:00:00Z",
    data: { account: "support" },
  });

  function signed(at: Date, id = "msg_1") {
    return {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": wh.sign(id, at, body),
    };
  }

  it("takes a signature made by the standardwebhooks package, also among several", () => {
    const [e] = eventsFromRequest(s, req(body, signed(now)), now);
    assert.equal(e?.id, `${s.id}:msg_1`);
    assert.equal(e?.type, "message.received");
    assert.equal(e?.account, "support");
    const headers = signed(now);
    headers["webhook-signature"] =
      `v1,${Buffer.alloc(32).toString("base64")} ${headers["webhook-signature"]}`;
    assert.equal(eventsFromRequest(s, req(body, headers), now).length, 1);
  });

  it("refuses a timestamp more than 5 minutes off, a wrong key, a changed id, or missing headers", () => {
    assert.equal(
      code(() => eventsFromRequest(s, req(body, signed(new Date(now.getTime() - 301_000))), now)),
      "HG_ERR_UNAUTHORIZED",
    );
    assert.equal(
      code(() => eventsFromRequest(s, req(body, signed(new Date(now.getTime() + 301_000))), now)),
      "HG_ERR_UNAUTHORIZED",
    );
    assert.equal(eventsFromRequest(s, req(body, signed(new Date(now.getTime() - 299_000))), now).length, 1);
    const other = new Webhook(buildSource({ name: "x", kind: "standard-webhooks" }).secret ?? "");
    const forged = { ...signed(now), "webhook-signature": other.sign("msg_1", now, body) };
    assert.equal(
      code(() => eventsFromRequest(s, req(body, forged), now)),
      "HG_ERR_UNAUTHORIZED",
    );
    assert.equal(
      code(() => eventsFromRequest(s, req(body, { ...signed(now), "webhook-id": "msg_2" }), now)),
      "HG_ERR_UNAUTHORIZED",
    );
    assert.equal(
      code(() => eventsFromRequest(s, req(body), now)),
      "HG_ERR_UNAUTHORIZED",
    );
  });
});

describe("generic", () => {
  it("takes Hookgate's own event shape, arrays, batches and any JSON", () => {
    const s = source({ kind: "generic" });
    const own = eventsFromRequest(
      s,
      req({ type: "messageNew", id: "x1", account: "acme", data: { a: 1 } }),
      now,
    );
    assert.deepEqual(
      own.map((e) => [e.id, e.type, e.account, e.data]),
      [[`${s.id}:x1`, "messageNew", "acme", { a: 1 }]],
    );
    const any = eventsFromRequest(s, req([{ event: "ticket.created", id: 7 }, { foo: "bar" }]), now);
    assert.deepEqual(
      any.map((e) => [e.id.startsWith(`${s.id}:`), e.type]),
      [
        [true, "ticket.created"],
        [true, "webhook"],
      ],
    );
    assert.equal(eventsFromRequest(s, req({ events: [{ type: "a" }, { type: "b" }] }), now).length, 2);
  });

  it("with a header token, refuses requests without it", () => {
    const s = source({ kind: "generic", auth: { type: "header", name: "x-token", value: "shared-token-1" } });
    assert.equal(eventsFromRequest(s, req({ type: "a" }, { "x-token": "shared-token-1" }), now).length, 1);
    assert.equal(
      code(() => eventsFromRequest(s, req({ type: "a" }, { "x-token": "shared-token-2" }), now)),
      "HG_ERR_UNAUTHORIZED",
    );
    assert.equal(
      code(() => eventsFromRequest(s, req({ type: "a" }), now)),
      "HG_ERR_UNAUTHORIZED",
    );
  });
});
