import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import type { EmailView } from "../../../src/events/index.ts";
import {
  emailViewOf,
  VIEW_LINE_CHARS,
  VIEW_MAX_ADDRESSES,
  VIEW_TEXT_CHARS,
} from "../../../src/sources/email-view/index.ts";
import { normalizeEvent } from "../../../src/sources/index.ts";
import { eventsOfSample, listSamples, SAMPLES_DIR } from "../../../src/sources/samples.ts";

/**
 * The view each sample body becomes, event by event (a batch holds several), field by field.
 * Read from samples/sources/** through the kind's adapter, as a source would.
 */
const EXPECTED: Record<string, Array<EmailView | null>> = {
  "emailengine/accountAdded.json": [{ account: "example" }],
  "emailengine/accountDeleted.json": [{ account: "example" }],
  "emailengine/accountInitialized.json": [{ account: "example" }],
  "emailengine/authenticationError.json": [{ reason: "Invalid credentials (Failure)", account: "example" }],
  "emailengine/authenticationSuccess.json": [{ account: "example" }],
  "emailengine/connectError.json": [{ reason: "Request to IMAP server timed out", account: "example" }],
  "emailengine/listSubscribe.json": [
    {
      status: "subscribed",
      recipient: "ada@example.com",
      messageId: "<a1b2c3@example.org>",
      account: "example",
      direction: "outbound",
    },
  ],
  "emailengine/listUnsubscribe.json": [
    {
      status: "unsubscribed",
      recipient: "ada@example.com",
      messageId: "<a1b2c3@example.org>",
      account: "example",
      direction: "outbound",
    },
  ],
  "emailengine/mailboxDeleted.json": [{ account: "example", mailbox: "Projects/Old" }],
  "emailengine/mailboxNew.json": [{ account: "example", mailbox: "Projects/Hookgate" }],
  "emailengine/mailboxReset.json": [{ account: "example", mailbox: "INBOX" }],
  "emailengine/messageBounce.json": [
    {
      status: "bounced",
      bounce: "hard",
      recipient: "nobody@example.com",
      reason: "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown",
      messageId: "<a1b2c3@example.org>",
      account: "example",
      mailbox: "INBOX",
      direction: "outbound",
    },
  ],
  "emailengine/messageComplaint.json": [
    {
      status: "complained",
      recipient: "ada@example.com",
      reason: "abuse",
      subject: "Your receipt",
      from: { name: null, address: "support@example.org" },
      to: [{ name: null, address: "ada@example.com" }],
      messageId: "<a1b2c3@example.org>",
      date: "2025-05-14T09:00:00.000Z",
      account: "example",
      mailbox: "INBOX",
      direction: "outbound",
    },
  ],
  "emailengine/messageDeleted.json": [
    { messageId: "<5e1d2b6a-1043@example.com>", account: "example", mailbox: "INBOX" },
  ],
  "emailengine/messageDeliveryError.json": [
    {
      status: "deferred",
      recipient: "ada@example.com",
      reason: "Connection timed out",
      from: { name: null, address: "support@example.org" },
      to: [{ name: null, address: "ada@example.com" }],
      messageId: "<a1b2c3@example.org>",
      account: "example",
      direction: "outbound",
    },
  ],
  "emailengine/messageFailed.json": [
    {
      status: "failed",
      reason: "Error: 550 5.1.1 User unknown",
      messageId: "<a1b2c3@example.org>",
      account: "example",
      direction: "outbound",
    },
  ],
  "emailengine/messageMissing.json": [
    { reason: "Message not found on server", account: "example", mailbox: "INBOX" },
  ],
  "emailengine/messageNew.json": [
    {
      status: "received",
      subject: "Invoice 1043",
      from: { name: "Ada Lovelace", address: "ada@example.com" },
      to: [{ name: "Support", address: "support@example.org" }],
      replyTo: [{ name: "Ada Lovelace", address: "ada@example.com" }],
      messageId: "<5e1d2b6a-1043@example.com>",
      date: "2025-05-14T10:00:00.000Z",
      text: "Hello,\nplease find invoice 1043 attached.",
      account: "example",
      mailbox: "INBOX",
      direction: "inbound",
    },
  ],
  "emailengine/messageSent.json": [
    {
      status: "sent",
      recipient: "ada@example.com",
      from: { name: null, address: "support@example.org" },
      to: [{ name: null, address: "ada@example.com" }],
      messageId: "<a1b2c3@example.org>",
      account: "example",
      direction: "outbound",
    },
  ],
  "emailengine/messageUpdated.json": [{ account: "example", mailbox: "INBOX" }],
  "emailengine/trackClick.json": [
    {
      status: "clicked",
      messageId: "<a1b2c3@example.org>",
      url: "https://example.org/pricing",
      account: "example",
      direction: "outbound",
    },
  ],
  "emailengine/trackOpen.json": [
    { status: "opened", messageId: "<a1b2c3@example.org>", account: "example", direction: "outbound" },
  ],
  "stalwart/account.over-quota.json": [{ account: "john" }],
  "stalwart/auth.banned.json": [{ reason: "Too many authentication failures" }],
  "stalwart/auth.error.json": [{ reason: "Directory lookup failed", account: "john" }],
  "stalwart/auth.failure.json": [{ reason: "Invalid credentials", account: "john" }],
  "stalwart/auth.success.json": [{ account: "john" }],
  "stalwart/batch.json": [
    { account: "john" },
    {
      status: "queued",
      recipient: "john@example.org",
      from: { name: null, address: "ada@example.com" },
      to: [{ name: null, address: "john@example.org" }],
    },
    {
      from: { name: null, address: "ada@example.com" },
      to: [{ name: null, address: "john@example.org" }],
      messageId: "<5e1d2b6a-1043@example.com>",
      account: "john",
      direction: "inbound",
    },
  ],
  "stalwart/double-bounce.json": [
    {
      status: "failed",
      recipient: "postmaster@example.org",
      reason: "Bounce of a bounce could not be delivered",
      to: [{ name: null, address: "postmaster@example.org" }],
    },
  ],
  "stalwart/dsn.json": [
    {
      status: "bounced",
      bounce: "hard",
      recipient: "nobody@example.com",
      reason: "550 5.1.1 User unknown",
      from: { name: null, address: "john@example.org" },
      to: [{ name: null, address: "nobody@example.com" }],
      direction: "outbound",
    },
  ],
  "stalwart/message-ingest.ham.json": [
    {
      from: { name: null, address: "ada@example.com" },
      to: [{ name: null, address: "john@example.org" }],
      messageId: "<5e1d2b6a-1043@example.com>",
      account: "john",
      direction: "inbound",
    },
  ],
  "stalwart/message-ingest.spam.json": [
    {
      from: { name: null, address: "spam@example.net" },
      to: [{ name: null, address: "john@example.org" }],
      messageId: "<deal@example.net>",
      account: "john",
      direction: "inbound",
    },
  ],
  "stalwart/message.accepted.json": [
    {
      status: "queued",
      recipient: "john@example.org",
      from: { name: null, address: "ada@example.com" },
      to: [{ name: null, address: "john@example.org" }],
    },
  ],
  "stalwart/message.appended.json": [
    {
      status: "received",
      subject: "Invoice 1043",
      from: { name: null, address: "ada@example.com" },
      messageId: "<5e1d2b6a-1043@example.com>",
      account: "john",
      direction: "inbound",
    },
  ],
  "stalwart/message.rejected.json": [
    {
      status: "rejected",
      recipient: "john@example.org",
      reason: "550 5.7.1 Message rejected by spam filter",
      from: { name: null, address: "spam@example.net" },
      to: [{ name: null, address: "john@example.org" }],
      direction: "inbound",
    },
  ],
  "stalwart/report.incoming.arf.json": [
    {
      status: "complained",
      recipient: "ada@example.com",
      reason: "abuse",
      from: { name: null, address: "john@example.org" },
      direction: "outbound",
    },
  ],
  "stalwart/report.incoming.dmarc.json": [{}],
  "stalwart/report.incoming.tls.json": [{}],
  "stalwart/report.outgoing.json": [{}],
  "mailtrap/batch.json": [
    { status: "delivered", recipient: "recipient@example.com", messageId: "abc-123", direction: "outbound" },
    { status: "opened", recipient: "recipient@example.com", messageId: "abc-123", direction: "outbound" },
    {
      status: "clicked",
      recipient: "recipient@example.com",
      messageId: "abc-123",
      url: "https://example.org/",
      direction: "outbound",
    },
  ],
  "mailtrap/bounce.json": [
    {
      status: "bounced",
      bounce: "hard",
      recipient: "recipient@example.com",
      reason: "550 5.1.1 User unknown",
      messageId: "1df37d17-0286-4d8b-8edf-bc4ec5be86e2",
      direction: "outbound",
    },
  ],
  "mailtrap/click.json": [
    {
      status: "clicked",
      recipient: "recipient@example.com",
      messageId: "1df37d17-0286-4d8b-8edf-bc4ec5be86e7",
      url: "https://example.org/pricing",
      direction: "outbound",
    },
  ],
  "mailtrap/delivery.json": [
    {
      status: "delivered",
      recipient: "recipient@example.com",
      messageId: "1df37d17-0286-4d8b-8edf-bc4ec5be86e0",
      direction: "outbound",
    },
  ],
  "mailtrap/open.json": [
    {
      status: "opened",
      recipient: "recipient@example.com",
      messageId: "1df37d17-0286-4d8b-8edf-bc4ec5be86e5",
      direction: "outbound",
    },
  ],
  "mailtrap/reject.json": [
    {
      status: "rejected",
      recipient: "recipient@example.com",
      reason: "Recipient is on the suppression list",
      messageId: "1df37d17-0286-4d8b-8edf-bc4ec5be86e8",
      direction: "outbound",
    },
  ],
  "mailtrap/soft-bounce.json": [
    {
      status: "bounced",
      bounce: "soft",
      recipient: "recipient@example.com",
      reason: "452 4.2.2 Mailbox full",
      messageId: "1df37d17-0286-4d8b-8edf-bc4ec5be86e1",
      direction: "outbound",
    },
  ],
  "mailtrap/spam.json": [
    {
      status: "complained",
      recipient: "recipient@example.com",
      messageId: "1df37d17-0286-4d8b-8edf-bc4ec5be86e6",
      direction: "outbound",
    },
  ],
  "mailtrap/suspension.json": [
    {
      status: "suppressed",
      recipient: "recipient@example.com",
      reason: "The recipient has been added to the suppression list",
      messageId: "1df37d17-0286-4d8b-8edf-bc4ec5be86e3",
      direction: "outbound",
    },
  ],
  "mailtrap/unsubscribe.json": [
    {
      status: "unsubscribed",
      recipient: "recipient@example.com",
      messageId: "1df37d17-0286-4d8b-8edf-bc4ec5be86e4",
      direction: "outbound",
    },
  ],
  "mailslurp/BOUNCE.json": [
    {
      status: "bounced",
      bounce: "hard",
      recipient: "nobody@example.com",
      from: { name: null, address: "support@mailslurp.example" },
      to: [{ name: null, address: "nobody@example.com" }],
      direction: "outbound",
    },
  ],
  "mailslurp/BOUNCE_RECIPIENT.json": [
    { status: "bounced", bounce: "hard", recipient: "nobody@example.com", direction: "outbound" },
  ],
  "mailslurp/DELIVERY_STATUS.json": [
    {
      status: "delivered",
      recipient: "ada@example.com",
      subject: "Your receipt",
      to: [{ name: null, address: "ada@example.com" }],
      account: "a7e2c4d0-5b1f-4d2e-8c3a-9f0b1c2d3e4f",
      direction: "outbound",
    },
  ],
  "mailslurp/EMAIL_OPENED.json": [
    {
      status: "opened",
      recipient: "ada@example.com",
      account: "a7e2c4d0-5b1f-4d2e-8c3a-9f0b1c2d3e4f",
      direction: "outbound",
    },
  ],
  "mailslurp/EMAIL_READ.json": [{ account: "a7e2c4d0-5b1f-4d2e-8c3a-9f0b1c2d3e4f" }],
  "mailslurp/EMAIL_RECEIVED.json": [
    {
      status: "received",
      subject: "Invoice 1043",
      from: { name: null, address: "ada@example.com" },
      to: [{ name: null, address: "support@mailslurp.example" }],
      account: "a7e2c4d0-5b1f-4d2e-8c3a-9f0b1c2d3e4f",
      direction: "inbound",
    },
  ],
  "mailslurp/NEW_ATTACHMENT.json": [{ account: "a7e2c4d0-5b1f-4d2e-8c3a-9f0b1c2d3e4f" }],
  "mailslurp/NEW_CONTACT.json": [{}],
  "mailslurp/NEW_EMAIL.json": [
    {
      status: "received",
      subject: "Invoice 1043",
      from: { name: null, address: "ada@example.com" },
      to: [{ name: null, address: "support@mailslurp.example" }],
      account: "a7e2c4d0-5b1f-4d2e-8c3a-9f0b1c2d3e4f",
      direction: "inbound",
    },
  ],
  "mailslurp/NEW_SMS.json": [{ account: "pn-0a1b2c" }],
  "mailpilot/action_taken.json": [
    {
      subject: "Newsletter",
      from: { name: null, address: "newsletter@example.com" },
      account: "personal",
      direction: "inbound",
    },
  ],
  "mailpilot/connection_lost.json": [
    { reason: "IMAP connection lost: Socket closed by imap.example.com", account: "personal" },
  ],
  "mailpilot/email_processed.json": [
    {
      status: "received",
      subject: "Important Update",
      from: { name: null, address: "sender@example.com" },
      account: "personal",
      direction: "inbound",
    },
  ],
  "mailpilot/error.json": [
    {
      reason: "IMAP connection timeout: Connection to imap.example.com timed out after 30s",
      account: "personal",
    },
  ],
  "standard-webhooks/message.received.json": [
    {
      status: "received",
      subject: "Invoice 1043",
      from: { name: null, address: "ada@example.com" },
      account: "support",
      direction: "inbound",
    },
  ],
  "generic/any-json.json": [{ subject: "Printer on fire" }],
  "generic/event.json": [
    {
      status: "received",
      subject: "Invoice 1043",
      from: { name: null, address: "ada@example.com" },
      account: "support",
      direction: "inbound",
    },
  ],
};

describe("event.email of every sample", () => {
  it("the table covers every sample file", async () => {
    const files = (await listSamples()).map((s) => s.file).sort();
    assert.deepEqual(files, Object.keys(EXPECTED).sort());
  });

  for (const [file, views] of Object.entries(EXPECTED)) {
    it(file, async () => {
      const events = (await eventsOfSample(file)) ?? [];
      assert.equal(events.length, views.length);
      for (const [i, event] of events.entries()) {
        const expected = views[i] ?? null;
        if (expected === null) {
          assert.equal(event.email, undefined);
          continue;
        }
        // Field by field first, so a failure names the field; then nothing else is there.
        for (const [field, value] of Object.entries(expected)) {
          assert.deepEqual(event.email?.[field as keyof EmailView], value, `${file}[${i}].email.${field}`);
        }
        assert.deepEqual(event.email, expected, `${file}[${i}] has no other fields`);
        assert.equal(event.email?.account, event.account ?? undefined, "email.account is event.account");
      }
    });
  }

  it("leaves the sender's body exactly as it was sent", async () => {
    for (const { file } of await listSamples()) {
      const body = JSON.parse(await readFile(new URL(file, SAMPLES_DIR), "utf8"));
      const events = (await eventsOfSample(file)) ?? [];
      const items = Array.isArray(body.events) && !file.startsWith("generic/") ? body.events : [body];
      if (file === "generic/event.json") assert.deepEqual(events[0]?.data, body.data, file);
      else for (const [i, e] of events.entries()) assert.deepEqual(e.data, items[i], file);
    }
  });
});

describe("event.email of events posted to the API", () => {
  it("reads data.subject, data.from, … and what the type means", () => {
    const event = normalizeEvent({
      type: "messageNew",
      account: "support",
      data: {
        subject: "Invoice 1043",
        from: "Ada Lovelace <ada@example.com>",
        to: [
          '"Lovelace, Ada" <ada@example.org>',
          { name: "Bob", email: "bob@example.org" },
          { name: "no address" },
        ],
        inReplyTo: "<prev@example.com>",
        date: 1728669700,
        text: { plain: "Hi,\r\n\r\n\r\n\r\nthanks   \r\n" },
      },
    });
    assert.deepEqual(event.email, {
      status: "received",
      subject: "Invoice 1043",
      from: { name: "Ada Lovelace", address: "ada@example.com" },
      to: [
        { name: "Lovelace, Ada", address: "ada@example.org" },
        { name: "Bob", address: "bob@example.org" },
      ],
      inReplyTo: "<prev@example.com>",
      date: "2024-10-11T18:01:40.000Z",
      text: "Hi,\n\nthanks",
      account: "support",
      direction: "inbound",
    });
  });

  it("takes the data's own status when it is one of the view's, and its bounce kind", () => {
    const event = normalizeEvent({
      type: "whatever.happened",
      data: { status: "bounced", bounce: "soft", recipient: "x@example.com", reason: "452 mailbox full" },
    });
    assert.deepEqual(event.email, {
      status: "bounced",
      bounce: "soft",
      recipient: "x@example.com",
      reason: "452 mailbox full",
      direction: "outbound",
    });
  });

  it("adds no view to data with nothing of an email in it", () => {
    assert.equal(normalizeEvent({ type: "ping", data: { n: 1 } }).email, undefined);
    assert.equal(normalizeEvent({ type: "ping", account: "a", data: null }).email, undefined);
    assert.equal(normalizeEvent({ type: "ping", data: { status: "green", email: "a@b" } }).email, undefined);
  });
});

describe("the view stays small", () => {
  it("cuts one-line values, the text and address lists", () => {
    const view = emailViewOf(
      "emailengine",
      {
        event: "messageNew",
        data: {
          subject: "S".repeat(10_000),
          from: { name: "N".repeat(10_000), address: "a@example.com" },
          to: Array.from({ length: 200 }, (_, i) => ({ address: `r${i}@example.com` })),
          text: { plain: "word ".repeat(10_000) },
        },
      },
      "messageNew",
      "acct",
    );
    assert.equal(view?.subject?.length, VIEW_LINE_CHARS);
    assert.ok(view?.subject?.endsWith("…"));
    assert.equal(view?.from?.name?.length, VIEW_LINE_CHARS);
    assert.equal(view?.text?.length, VIEW_TEXT_CHARS);
    assert.ok(view?.text?.endsWith("…"));
    assert.equal(view?.to?.length, VIEW_MAX_ADDRESSES);
    assert.ok(JSON.stringify(view).length < 5000, `${JSON.stringify(view).length} bytes`);
  });

  it("never reads inherited properties or wrong types as fields", () => {
    const view = emailViewOf(
      "emailengine",
      JSON.parse(
        '{"event":"messageNew","data":{"__proto__":{"subject":"x"},"from":7,"to":"","text":{"plain":42},"date":"not a date"}}',
      ),
      "messageNew",
      null,
    );
    assert.deepEqual(view, { status: "received", direction: "inbound" });
  });
});
