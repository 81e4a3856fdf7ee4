import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { beforeEach, describe, it } from "node:test";
import { useGateway } from "../helpers/fixture.ts";

/**
 * Filter and map functions written the way EmailEngine's documentation writes them ("Pre-Processing
 * Functions": a function body run as `(async (payload) => { … })(payload)`, `payload` being the
 * webhook body EmailEngine sends), saved unchanged, on EmailEngine samples ingested through an
 * EmailEngine source and delivered to a loopback sink.
 */

const fx = useGateway();

beforeEach(() => fx.reset());

const sample = async (name: string) =>
  await readFile(new URL(`../../samples/sources/emailengine/${name}.json`, import.meta.url), "utf8");

async function emailEngineSource() {
  const res = await fx.gw.call("POST", "/v1/sources", { name: "EmailEngine", kind: "emailengine" });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json as { id: string; secret: string };
}

/** POST a sample the way EmailEngine does: the raw body, signed with X-EE-Wh-Signature. */
async function send(source: { id: string; secret: string }, body: string) {
  const res = await fx.gw.app.inject({
    method: "POST",
    url: `/v1/ingest/${source.id}`,
    headers: {
      "content-type": "application/json",
      "x-ee-wh-signature": createHmac("sha256", source.secret).update(body).digest("base64url"),
    },
    payload: body,
  });
  assert.equal(res.statusCode, 200, res.body);
}

async function route(path: string, fields: { filter?: string; map?: string; sources?: string[] }) {
  const res = await fx.gw.call("POST", "/v1/routes", {
    name: `EmailEngine functions ${path}`,
    ...fields,
    target: { url: fx.sink.url(path), signing: { scheme: "none" } },
    retry: { scheduleMs: [50] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
}

const bodiesAt = (path: string) =>
  fx.sink.requests.filter((r) => r.url === path).map((r) => JSON.parse(r.body) as Record<string, unknown>);

describe("EmailEngine-style functions run unchanged", () => {
  it("a filter reading payload.path keeps INBOX events and drops the others", async () => {
    const source = await emailEngineSource();
    // The first example of EmailEngine's documentation, as it is written there.
    await route("/inbox", { sources: ["emailengine"], filter: 'if (payload.path === "INBOX") return true;' });
    // messageSent has no path: the filter returns undefined and the event is dropped; messageNew
    // (path INBOX), sent after it, is the sentinel.
    await send(source, await sample("messageSent"));
    await send(source, await sample("messageNew"));
    await fx.sink.waitFor(1);
    const delivered = bodiesAt("/inbox");
    assert.deepEqual(
      delivered.map((b) => b.type),
      ["messageNew"],
    );
  });

  it("a filter on payload.event and payload.data and a map returning fields of payload", async () => {
    const source = await emailEngineSource();
    await route("/bounces", {
      sources: ["emailengine"],
      filter:
        "if (payload.event !== 'messageBounce') return false;\nreturn payload.data.action === 'failed';",
      map: "return {\n  account: payload.account,\n  recipient: payload.data.recipient,\n  status: payload.data.response.status\n};",
    });
    await send(source, await sample("messageNew"));
    await send(source, await sample("messageBounce"));
    await fx.sink.waitFor(1);
    const bounce = JSON.parse(await sample("messageBounce"));
    assert.deepEqual(bodiesAt("/bounces"), [
      { account: bounce.account, recipient: bounce.data.recipient, status: bounce.data.response.status },
    ]);
  });

  it("an async body awaits on payload, and event is still Hookgate's event", async () => {
    const source = await emailEngineSource();
    await route("/async", {
      sources: ["emailengine"],
      filter:
        "const subject = await Promise.resolve(payload.data.subject);\nreturn /invoice/i.test(subject);",
      map: "return { subject: payload.data.subject, from: payload.data.from.address, id: event.id, kind: event.sourceKind, type: event.type };",
    });
    const body = await sample("messageNew");
    await send(source, body);
    await fx.sink.waitFor(1);
    const original = JSON.parse(body);
    assert.deepEqual(bodiesAt("/async"), [
      {
        subject: original.data.subject,
        from: original.data.from.address,
        id: `${source.id}:${original.eventId}`,
        kind: "emailengine",
        type: "messageNew",
      },
    ]);
  });

  it("for an event posted to /v1/events, payload is the event that client sent", async () => {
    await route("/api", {
      filter: "return payload.type === 'messageNew' && payload.data.subject === 'hi';",
    });
    const posted = await fx.gw.call("POST", "/v1/events", { type: "messageNew", data: { subject: "hi" } });
    assert.equal(posted.status, 202, JSON.stringify(posted.json));
    await fx.sink.waitFor(1);
    assert.deepEqual(
      bodiesAt("/api").map((b) => b.type),
      ["messageNew"],
    );
  });
});
