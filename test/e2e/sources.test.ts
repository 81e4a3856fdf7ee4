import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { beforeEach, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { useGateway } from "../helpers/fixture.ts";
import type { SinkRequest } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";

const MAX_BODY = 64 * 1024;

const fx = useGateway({ HOOKGATE_MAX_BODY_BYTES: String(MAX_BODY) });

beforeEach(() => fx.reset());

const fixture = async (file: string) =>
  await readFile(new URL(`../../samples/sources/${file}`, import.meta.url), "utf8");

async function createSource(fields: Record<string, unknown>) {
  const res = await fx.gw.call("POST", "/v1/sources", { name: "s", ...fields });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;
}

async function createRoute(fields: Record<string, unknown> = {}, path = "/hook") {
  const res = await fx.gw.call("POST", "/v1/routes", {
    name: "r",
    target: { url: fx.sink.url(path), signing: { scheme: "none" } },
    retry: { scheduleMs: [50, 50] },
    ...fields,
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;
}

/** POST to the ingest URL the way a sender does: raw bytes, its own headers, no admin token. */
async function ingest(sourceId: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fx.gw.app.inject({
    method: "POST",
    url: `/v1/ingest/${sourceId}`,
    headers: { "content-type": "application/json", ...headers },
    payload: body,
  });
  let json: unknown = null;
  try {
    json = JSON.parse(res.body);
  } catch {}
  // biome-ignore lint/suspicious/noExplicitAny: test convenience for reading JSON answers
  return { status: res.statusCode, json: json as any };
}

const hmac = (key: string, body: string, enc: "base64" | "base64url" | "hex") =>
  createHmac("sha256", key).update(body).digest(enc);
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

const bodies = (reqs: SinkRequest[]) => reqs.map((r) => JSON.parse(r.body));

describe("sources API", () => {
  it("creates a source with a generated secret shown once, and lists it without credentials", async () => {
    const created = await createSource({ name: "EE prod", kind: "emailengine" });
    assert.match(created.id, /^src_[0-9a-z]+$/);
    assert.equal(created.kind, "emailengine");
    assert.match(created.ingestUrl, new RegExp(`/v1/ingest/${created.id}$`));
    assert.match(created.secret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(created.hasSecret, true);
    const got = await fx.gw.call("GET", `/v1/sources/${created.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.json.secret, undefined);
    assert.equal(got.json.hasSecret, true);
    assert.equal(JSON.stringify(got.json).includes(created.secret), false);
    const list = await fx.gw.call("GET", "/v1/sources");
    assert.ok(list.json.sources.some((s: { id: string }) => s.id === created.id));
    assert.equal(JSON.stringify(list.json).includes(created.secret), false);
  });

  it("never shows auth passwords or header tokens after creation", async () => {
    const created = await createSource({ kind: "mailpilot" });
    assert.equal(created.auth.type, "header");
    assert.equal(created.auth.name, "authorization");
    assert.match(created.auth.value, /^Bearer /);
    const got = await fx.gw.call("GET", `/v1/sources/${created.id}`);
    assert.deepEqual(got.json.auth, { type: "header", name: "authorization" });
    const slurp = await createSource({
      kind: "mailslurp",
      auth: { type: "basic", username: "hook", password: "s3cret-pass" },
    });
    const list = await fx.gw.call("GET", "/v1/sources");
    assert.equal(JSON.stringify(list.json).includes("s3cret-pass"), false);
    assert.equal(JSON.stringify(list.json).includes(created.auth.value), false);
    assert.deepEqual((await fx.gw.call("GET", `/v1/sources/${slurp.id}`)).json.auth, {
      type: "basic",
      username: "hook",
    });
  });

  it("changes, rotates and deletes; 404 for unknown ids; 400 for bad input", async () => {
    const created = await createSource({ kind: "mailtrap", secret: "first-secret-123" });
    const renamed = await fx.gw.call("PATCH", `/v1/sources/${created.id}`, { name: "renamed" });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.json.name, "renamed");
    assert.equal(renamed.json.secret, undefined);
    const rotated = await fx.gw.call("PATCH", `/v1/sources/${created.id}`, { secret: "second-secret-456" });
    assert.equal(rotated.json.secret, "second-secret-456");
    const body = await fixture("mailtrap/delivery.json");
    const old = await ingest(created.id, body, {
      "x-mailtrap-signature": hmac("first-secret-123", body, "hex"),
    });
    assert.equal(old.status, 401);
    const now = await ingest(created.id, body, {
      "x-mailtrap-signature": hmac("second-secret-456", body, "hex"),
    });
    assert.equal(now.status, 200);
    const kind = await fx.gw.call("PATCH", `/v1/sources/${created.id}`, { kind: "generic" });
    assert.equal(kind.status, 400);
    assert.ok(kind.json.error.details.some((d: { path: string }) => d.path === "kind"));
    assert.equal((await fx.gw.call("DELETE", `/v1/sources/${created.id}`)).status, 204);
    assert.equal((await fx.gw.call("GET", `/v1/sources/${created.id}`)).status, 404);
    assert.equal((await fx.gw.call("DELETE", `/v1/sources/${created.id}`)).status, 404);
    assert.equal(
      (await ingest(created.id, body, { "x-mailtrap-signature": hmac("second-secret-456", body, "hex") }))
        .status,
      404,
    );
    const bad = await fx.gw.call("POST", "/v1/sources", { name: "x", kind: "sendgrid" });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, "HG_ERR_VALIDATION");
    const noAuth = await fx.gw.call("POST", "/v1/sources", { name: "x", kind: "mailslurp", auth: null });
    assert.equal(noAuth.status, 400);
    assert.equal(noAuth.json.error.details[0].path, "auth");
  });

  it("needs the admin token for /v1/sources but not for /v1/ingest", async () => {
    const res = await fx.gw.app.inject({ method: "GET", url: "/v1/sources" });
    assert.equal(res.statusCode, 401);
    assert.equal(JSON.parse(res.body).error.code, "HG_ERR_UNAUTHORIZED");
    const open = await createSource({ kind: "generic" });
    const ok = await ingest(open.id, JSON.stringify({ type: "ping", data: {} }));
    assert.deepEqual(ok.json, { accepted: 1, duplicates: 0 });
    const unknown = await ingest("src_doesnotexist", "{}");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, "HG_ERR_NOT_FOUND");
  });

  it("documents the endpoints in OpenAPI, ingest without the bearer requirement", async () => {
    const doc = (await fx.gw.app.inject({ method: "GET", url: "/openapi.json" })).json();
    assert.ok(doc.paths["/v1/sources"].post.requestBody);
    assert.ok(doc.paths["/v1/sources/{id}"].patch);
    assert.deepEqual(doc.paths["/v1/ingest/{sourceId}"].post.security, []);
    assert.deepEqual(doc.paths["/v1/ingest/{sourceId}"].post.tags, ["ingest"]);
  });

  it("lists the sample bodies", async () => {
    const res = await fx.gw.call("GET", "/v1/sources/samples?kind=mailtrap");
    assert.equal(res.status, 200);
    assert.ok(res.json.samples.some((s: { event: string }) => s.event === "soft bounce"));
    assert.ok(res.json.samples.every((s: { kind: string }) => s.kind === "mailtrap"));
  });
});

/** For each kind: a source, and how to sign a body for it correctly and wrongly. */
interface Case {
  kind: string;
  file: string;
  events: number;
  create?: Record<string, unknown>;
  sign: (src: { secret?: string; auth?: { value?: string } }, body: string) => Record<string, string>;
  forge: (body: string) => Record<string, string>;
}

const CASES: Case[] = [
  {
    kind: "emailengine",
    file: "emailengine/messageNew.json",
    events: 1,
    sign: (s, b) => ({ "x-ee-wh-signature": hmac(s.secret ?? "", b, "base64url") }),
    forge: (b) => ({ "x-ee-wh-signature": hmac("guess", b, "base64url") }),
  },
  {
    kind: "stalwart",
    file: "stalwart/batch.json",
    events: 3,
    sign: (s, b) => ({ "x-signature": hmac(s.secret ?? "", b, "base64") }),
    forge: (b) => ({ "x-signature": hmac("guess", b, "base64") }),
  },
  {
    kind: "stalwart",
    file: "stalwart/message-ingest.ham.json",
    events: 1,
    create: { secret: null, auth: { type: "basic", username: "account", password: "password-1" } },
    sign: () => ({ authorization: basic("account", "password-1") }),
    forge: () => ({ authorization: basic("account", "password-2") }),
  },
  {
    kind: "mailtrap",
    file: "mailtrap/batch.json",
    events: 3,
    sign: (s, b) => ({ "x-mailtrap-signature": hmac(s.secret ?? "", b, "hex") }),
    forge: (b) => ({ "x-mailtrap-signature": hmac("guess", b, "hex") }),
  },
  {
    kind: "mailslurp",
    file: "mailslurp/NEW_EMAIL.json",
    events: 1,
    create: { auth: { type: "basic", username: "hook", password: "pw-mailslurp" } },
    sign: () => ({ authorization: basic("hook", "pw-mailslurp"), "x-event": "NEW_EMAIL" }),
    forge: () => ({ authorization: basic("hook", "pw-guess") }),
  },
  {
    kind: "mailpilot",
    file: "mailpilot/email_processed.json",
    events: 1,
    sign: (s) => ({ authorization: s.auth?.value ?? "" }),
    forge: () => ({ authorization: "Bearer guess-guess-guess" }),
  },
  {
    kind: "standard-webhooks",
    file: "standard-webhooks/message.received.json",
    events: 1,
    sign: (s, b) => {
      const at = new Date();
      const id = `msg_${b.length}`;
      return {
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": new Webhook(s.secret ?? "").sign(id, at, b),
      };
    },
    forge: (b) => {
      const at = new Date(Date.now() - 10 * 60_000);
      const s = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
      return {
        "webhook-id": "msg_1",
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": new Webhook(s).sign("msg_1", at, b),
      };
    },
  },
  {
    kind: "generic",
    file: "generic/event.json",
    events: 1,
    create: { auth: { type: "header", name: "x-hook-token", value: "shared-token-1" } },
    sign: () => ({ "x-hook-token": "shared-token-1" }),
    forge: () => ({ "x-hook-token": "shared-token-2" }),
  },
];

describe("ingest: each kind through a route to a sink", () => {
  for (const c of CASES) {
    it(`${c.kind} (${c.file}): valid, invalid and missing signatures; redelivery is a duplicate`, async () => {
      const src = await createSource({ kind: c.kind, ...(c.create ?? {}) });
      const route = await createRoute({ sources: [src.id] }, `/${c.kind}`);
      const body = await fixture(c.file);

      const forged = await ingest(src.id, body, c.forge(body));
      assert.equal(forged.status, 401, JSON.stringify(forged.json));
      assert.equal(forged.json.error.code, "HG_ERR_UNAUTHORIZED");
      const missing = await ingest(src.id, body);
      assert.equal(missing.status, 401);

      const headers = c.sign(src, body);
      const first = await ingest(src.id, body, headers);
      assert.equal(first.status, 200, JSON.stringify(first.json));
      assert.deepEqual(first.json, { accepted: c.events, duplicates: 0 });
      const again = await ingest(src.id, body, headers);
      assert.deepEqual(again.json, { accepted: 0, duplicates: c.events });

      const got = await fx.sink.waitFor(c.events);
      const events = bodies(got);
      assert.equal(events.length, c.events);
      for (const e of events) {
        assert.equal(e.source, src.id);
        assert.equal(e.sourceKind, c.kind);
        assert.ok(e.id.startsWith(`${src.id}:`));
      }
      // The redelivery never reached the stream: the route has exactly one delivery per event.
      const deliveries = await waitUntil(async () => {
        const list = await fx.gw.call("GET", `/v1/deliveries?routeId=${route.id}`);
        return list.json.deliveries.length >= c.events ? list.json.deliveries : undefined;
      });
      assert.equal(deliveries.length, c.events);
      assert.equal(new Set(events.map((e: { id: string }) => e.id)).size, c.events);
    });
  }

  it("the data of an EmailEngine event is the original body, with type, account and time from it", async () => {
    const src = await createSource({ kind: "emailengine" });
    await createRoute({ sources: ["emailengine"], events: ["messageNew"] }, "/ee");
    const body = await fixture("emailengine/messageNew.json");
    const res = await ingest(src.id, body, { "x-ee-wh-signature": hmac(src.secret, body, "base64url") });
    assert.equal(res.status, 200);
    const [got] = bodies(await fx.sink.waitFor(1));
    const original = JSON.parse(body);
    assert.equal(got.type, "messageNew");
    assert.equal(got.account, original.account);
    assert.equal(got.occurredAt, original.date);
    assert.equal(got.id, `${src.id}:${original.eventId}`);
    assert.deepEqual(got.data, original);
  });

  it("the same sender id on two sources makes two events", async () => {
    const a = await createSource({ kind: "generic" });
    const b = await createSource({ kind: "generic" });
    const body = JSON.stringify({ id: "same-id", type: "x", data: {} });
    assert.deepEqual((await ingest(a.id, body)).json, { accepted: 1, duplicates: 0 });
    assert.deepEqual((await ingest(b.id, body)).json, { accepted: 1, duplicates: 0 });
  });
});

describe("ingest: reserved types", () => {
  it("refuses an event a sender types hookgate.*, storing nothing of the request", async () => {
    const src = await createSource({ kind: "generic" });
    await createRoute({ sources: [src.id] }, "/reserved");
    const batch = JSON.stringify([
      { type: "messageNew", data: {} },
      { type: "hookgate.route.disabled", data: { routeId: "rte_x" } },
    ]);
    const res = await ingest(src.id, batch);
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.equal(res.json.error.code, "HG_ERR_VALIDATION");
    assert.match(res.json.error.message, /the prefix "hookgate\." is reserved/);
    // Nothing of the refused request was stored: the next event is the only one delivered.
    assert.equal((await ingest(src.id, JSON.stringify({ type: "after-reserved", data: {} }))).status, 200);
    await waitUntil(() => fx.sink.requests.some((r) => JSON.parse(r.body).type === "after-reserved"));
    assert.deepEqual(
      bodies(fx.sink.requests.filter((r) => r.url === "/reserved")).map((e) => e.type),
      ["after-reserved"],
    );
  });
});

describe("ingest: bodies", () => {
  it("answers 413 for a body over the limit and stores nothing", async () => {
    const src = await createSource({ kind: "generic" });
    await createRoute({ sources: [src.id] }, "/big");
    const big = JSON.stringify({ type: "too-big", data: { pad: "a".repeat(MAX_BODY) } });
    const res = await ingest(src.id, big);
    assert.equal(res.status, 413);
    assert.equal(res.json.error.code, "HG_ERR_BODY_TOO_LARGE");
    // A later event from the same source is the only one delivered.
    assert.equal((await ingest(src.id, JSON.stringify({ type: "after", data: {} }))).status, 200);
    await waitUntil(() => fx.sink.requests.some((r) => JSON.parse(r.body).type === "after"));
    assert.deepEqual(
      bodies(fx.sink.requests).map((e) => e.type),
      ["after"],
    );
  });

  it("answers 400 HG_ERR_BAD_JSON for malformed JSON with a valid signature, 401 without", async () => {
    const src = await createSource({ kind: "emailengine" });
    const bad = '{"event": "messageNew",';
    const signed = await ingest(src.id, bad, { "x-ee-wh-signature": hmac(src.secret, bad, "base64url") });
    assert.equal(signed.status, 400);
    assert.equal(signed.json.error.code, "HG_ERR_BAD_JSON");
    assert.equal((await ingest(src.id, bad)).status, 401);
    const empty = await ingest(src.id, "", { "x-ee-wh-signature": hmac(src.secret, "", "base64url") });
    assert.equal(empty.status, 400);
  });

  it("takes the body whatever the content type says, verifying the exact bytes", async () => {
    const src = await createSource({ kind: "mailtrap" });
    // Whitespace and key order as the sender wrote them: re-serialising would break the signature.
    const body = '{ "events": [ {"event_id":"k1", "event": "open", "timestamp": 1728669700} ] }\n';
    const res = await ingest(src.id, body, {
      "content-type": "text/plain",
      "x-mailtrap-signature": hmac(src.secret, body, "hex"),
    });
    assert.deepEqual(res.json, { accepted: 1, duplicates: 0 });
  });

  it("answers 400 for a body that is not the sender's shape", async () => {
    const src = await createSource({ kind: "stalwart" });
    const body = JSON.stringify({ type: "auth.success" });
    const res = await ingest(src.id, body, { "x-signature": hmac(src.secret, body, "base64") });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, "HG_ERR_VALIDATION");
  });
});

describe("routes restricted by source", () => {
  it("by source id and by kind; unrestricted routes take every source", async () => {
    const ee = await createSource({ kind: "emailengine" });
    const mp = await createSource({ kind: "mailpilot" });
    await createRoute({ name: "by id", sources: [ee.id] }, "/by-id");
    await createRoute({ name: "by kind", sources: ["mailpilot"] }, "/by-kind");
    const all = await createRoute({ name: "all" }, "/all");
    const eeBody = await fixture("emailengine/messageSent.json");
    const mpBody = await fixture("mailpilot/error.json");
    assert.equal(
      (await ingest(ee.id, eeBody, { "x-ee-wh-signature": hmac(ee.secret, eeBody, "base64url") })).status,
      200,
    );
    assert.equal((await ingest(mp.id, mpBody, { authorization: mp.auth.value })).status, 200);
    await fx.gw.call("POST", "/v1/events", { type: "plain", data: {} });
    const got = await fx.sink.waitFor(5);
    const at = (path: string) =>
      bodies(got.filter((r) => r.url === path))
        .map((e) => e.type)
        .sort();
    assert.deepEqual(at("/by-id"), ["messageSent"]);
    assert.deepEqual(at("/by-kind"), ["error"]);
    assert.deepEqual(at("/all"), ["error", "messageSent", "plain"]);

    const dry = await fx.gw.call("POST", "/v1/dry-run", { event: { type: "plain", data: {} } });
    assert.equal(dry.status, 200);
    const why = Object.fromEntries(
      dry.json.results.map((r: { routeName: string; skipped: string | null }) => [r.routeName, r.skipped]),
    );
    assert.deepEqual(why, { "by id": "source not matched", "by kind": "source not matched", all: null });
    const dryById = await fx.gw.call("POST", "/v1/dry-run", {
      event: { type: "x", source: ee.id, data: {} },
    });
    assert.deepEqual(
      dryById.json.results.map((r: { matched: boolean }) => r.matched),
      [true, false, true],
    );

    const patched = await fx.gw.call("PATCH", `/v1/routes/${all.id}`, { sources: ["stalwart"] });
    assert.deepEqual(patched.json.sources, ["stalwart"]);
    const cleared = await fx.gw.call("PATCH", `/v1/routes/${all.id}`, { sources: null });
    assert.equal(cleared.status, 200);
    assert.equal(cleared.json.sources, undefined);
  });
});
