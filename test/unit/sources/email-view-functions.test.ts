import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestGateway, type TestGateway } from "../../helpers/gateway.ts";
import { type RedisServer, startRedisServer } from "../../helpers/redis-server.ts";

/**
 * One filter and one map written against `event.email`, run in the real sandbox through
 * POST /v1/dry-run on each system's sample of the same kind of event: they fire, and render the
 * same message, whatever system sent it. Nothing is sent (a dry-run); the target is loopback.
 */

let redis: RedisServer;
let gw: TestGateway;

before(async () => {
  redis = await startRedisServer({ appendonly: false });
  gw = await startTestGateway(redis.url);
});

after(async () => {
  await gw?.close();
  await redis?.stop();
});

const target = { url: "http://127.0.0.1:9/hook" };

async function dryRun(sample: string, route: Record<string, unknown>) {
  const res = await gw.call("POST", "/v1/dry-run", { sample, route: { target, ...route } });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const [result] = res.json.results;
  assert.ok(result, sample);
  assert.equal(result.error, undefined, `${sample}: ${JSON.stringify(result.error)}`);
  return result as {
    matched: boolean;
    filter: { result: boolean | null };
    map: { output: unknown } | null;
    request: { body: string } | null;
  };
}

describe("a filter and a map on event.email fire and render the same for every system", () => {
  const bounces = {
    name: "bounces",
    filter: 'export default (e) => e.email?.status === "bounced"',
    map: "export default (e) => ({ to: e.email.recipient, why: e.email.reason ?? null, bounce: e.email.bounce })",
    template: { kind: "text", body: "{{to}} bounced ({{bounce}}): {{why}}" },
  };
  const bounceSamples: Record<string, { to: string; why: string | null; bounce: string }> = {
    "emailengine/messageBounce.json": {
      to: "nobody@example.com",
      why: "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown",
      bounce: "hard",
    },
    "stalwart/dsn.json": { to: "nobody@example.com", why: "550 5.1.1 User unknown", bounce: "hard" },
    "mailtrap/bounce.json": { to: "recipient@example.com", why: "550 5.1.1 User unknown", bounce: "hard" },
    "mailtrap/soft-bounce.json": {
      to: "recipient@example.com",
      why: "452 4.2.2 Mailbox full",
      bounce: "soft",
    },
    // MailSlurp says who bounced, not why.
    "mailslurp/BOUNCE.json": { to: "nobody@example.com", why: null, bounce: "hard" },
  };

  for (const [sample, output] of Object.entries(bounceSamples)) {
    it(`bounces: ${sample}`, async () => {
      const result = await dryRun(sample, bounces);
      assert.equal(result.matched, true);
      assert.deepEqual(result.map?.output, output);
      assert.equal(result.request?.body, `${output.to} bounced (${output.bounce}): ${output.why ?? ""}`);
    });
  }

  const newMail = {
    name: "new mail",
    filter: 'export default (e) => e.email?.status === "received"',
    map: "export default (e) => ({ subject: e.email.subject, from: e.email.from.address, account: e.email.account })",
    template: { kind: "text", body: "New mail for {{account}} from {{from}}: {{subject}}" },
  };
  const newMailSamples: Record<string, { subject: string; from: string; account: string }> = {
    "emailengine/messageNew.json": { subject: "Invoice 1043", from: "ada@example.com", account: "example" },
    "stalwart/message.appended.json": { subject: "Invoice 1043", from: "ada@example.com", account: "john" },
    "mailslurp/NEW_EMAIL.json": {
      subject: "Invoice 1043",
      from: "ada@example.com",
      account: "a7e2c4d0-5b1f-4d2e-8c3a-9f0b1c2d3e4f",
    },
    "mailpilot/email_processed.json": {
      subject: "Important Update",
      from: "sender@example.com",
      account: "personal",
    },
  };

  for (const [sample, output] of Object.entries(newMailSamples)) {
    it(`new mail: ${sample}`, async () => {
      const result = await dryRun(sample, newMail);
      assert.equal(result.matched, true);
      assert.deepEqual(result.map?.output, output);
      assert.equal(
        result.request?.body,
        `New mail for ${output.account} from ${output.from}: ${output.subject}`,
      );
    });
  }

  // The same filters leave the other kinds alone, on every system.
  const neither = [
    "emailengine/messageSent.json",
    "emailengine/trackOpen.json",
    "stalwart/auth.failure.json",
    "stalwart/message-ingest.ham.json",
    "mailtrap/delivery.json",
    "mailslurp/DELIVERY_STATUS.json",
    "mailpilot/action_taken.json",
    "mailpilot/error.json",
  ];
  for (const sample of neither) {
    it(`neither fires on ${sample}`, async () => {
      for (const route of [bounces, newMail]) {
        const result = await dryRun(sample, route);
        assert.equal(result.filter.result, false, `${route.name} on ${sample}`);
        assert.equal(result.matched, false);
        assert.equal(result.request, null);
      }
    });
  }

  it("the dry-run's answer shows the event with its view and the body as sent", async () => {
    const res = await gw.call("POST", "/v1/dry-run", {
      sample: "mailtrap/bounce.json",
      route: { target, ...bounces },
    });
    assert.equal(res.json.event.email.status, "bounced");
    assert.equal(res.json.event.data.bounce_category, "badrecipient");
  });
});
