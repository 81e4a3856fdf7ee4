import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ADAPTERS } from "../../../src/sources/index.ts";
import { listSamples } from "../../../src/sources/samples.ts";

// Every event type the seed documents name, per system.
const DOCUMENTED: Record<string, string[]> = {
  emailengine: [
    "messageNew",
    "messageDeleted",
    "messageUpdated",
    "messageMissing",
    "messageSent",
    "messageDeliveryError",
    "messageFailed",
    "messageBounce",
    "messageComplaint",
    "mailboxNew",
    "mailboxDeleted",
    "mailboxReset",
    "accountAdded",
    "accountInitialized",
    "accountDeleted",
    "authenticationSuccess",
    "authenticationError",
    "connectError",
    "trackOpen",
    "trackClick",
    "listUnsubscribe",
    "listSubscribe",
  ],
  stalwart: [
    "auth.success",
    "auth.failure",
    "auth.banned",
    "auth.error",
    "message.accepted",
    "message.rejected",
    "message.appended",
    "account.over-quota",
    "dsn",
    "double-bounce",
    "report.incoming.dmarc",
    "report.incoming.tls",
    "report.incoming.arf",
    "report.outgoing",
    "message-ingest.ham",
  ],
  mailtrap: [
    "delivery",
    "soft bounce",
    "bounce",
    "suspension",
    "unsubscribe",
    "open",
    "spam",
    "click",
    "reject",
  ],
  mailslurp: [
    "BOUNCE",
    "BOUNCE_RECIPIENT",
    "DELIVERY_STATUS",
    "EMAIL_OPENED",
    "EMAIL_READ",
    "EMAIL_RECEIVED",
    "NEW_ATTACHMENT",
    "NEW_CONTACT",
    "NEW_EMAIL",
    "NEW_SMS",
  ],
  mailpilot: ["email_processed", "action_taken", "error", "connection_lost"],
};

describe("sample payloads", () => {
  it("cover every documented event type of every system", async () => {
    const samples = await listSamples();
    for (const [kind, types] of Object.entries(DOCUMENTED)) {
      const have = new Set(samples.filter((s) => s.kind === kind).flatMap((s) => s.event.split(",")));
      for (const t of types) assert.ok(have.has(t), `${kind} has no sample for ${t}`);
    }
  });

  it("each normalises through its kind's adapter with a type, an id, a time and the original as data", async () => {
    for (const s of await listSamples()) {
      const body = await s.load();
      const events = ADAPTERS[s.kind].normalise(
        body,
        { raw: Buffer.alloc(0), headers: {} },
        {
          sourceId: "src_x",
          kind: s.kind,
          now: new Date("2030-01-01T00:00:00Z"),
        },
      );
      assert.ok(events.length >= 1, s.file);
      for (const e of events) {
        assert.ok(e.type.length > 0, s.file);
        assert.ok(e.id.startsWith("src_x:"), s.file);
        if (s.kind !== "generic" && s.kind !== "standard-webhooks") {
          assert.notEqual(e.occurredAt, "2030-01-01T00:00:00.000Z", `${s.file}: occurredAt from the body`);
        }
        if (["emailengine", "mailpilot", "mailslurp"].includes(s.kind)) assert.deepEqual(e.data, body);
      }
    }
  });

  it("can be listed per kind", async () => {
    const mailpilot = await listSamples("mailpilot");
    assert.deepEqual(mailpilot.map((s) => s.event).sort(), [
      "action_taken",
      "connection_lost",
      "email_processed",
      "error",
    ]);
  });
});
