import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DISCORD_COLORS, type DiscordPresetMessage } from "../../../src/templates/discord-preset.ts";
import {
  classifyEvent,
  humanizeEventType,
  summarizeEmailEvent,
} from "../../../src/templates/email-summary.ts";
import { checkDiscordMessage, checkSlackMessage, renderBody } from "../../../src/templates/index.ts";
import { PRESET_EXCERPT_CHARS } from "../../../src/templates/slack-preset.ts";
import {
  ALL_EVENTS,
  bareEvent,
  emailEngineBounce,
  emailEngineMessageNew,
  mailpilotProcessed,
  mailSlurpNewEmail,
  mailtrapBounce,
  mailtrapDelivery,
  stalwartAccepted,
  stalwartAuthFailure,
} from "../../fixtures/templates/email-events.ts";

type SlackText = { type: string; text: string };
type SlackBlock = { type: string; text?: SlackText; fields?: SlackText[]; elements?: SlackText[] };
type Slack = { text: string; blocks: SlackBlock[] };
type Discord = DiscordPresetMessage;

function slack(payload: unknown): Slack {
  const rendered = renderBody({ kind: "slack" }, payload, "preset@1");
  assert.equal(rendered.contentType, "application/json");
  return JSON.parse(rendered.body) as Slack;
}

function discord(payload: unknown): Discord {
  return JSON.parse(renderBody({ kind: "discord" }, payload, "preset@1").body) as Discord;
}

const fieldTexts = (message: Slack) => message.blocks.flatMap((b) => b.fields ?? []).map((f) => f.text);

describe("email event summary", () => {
  it("classifies event types from every system", () => {
    const expected: Record<string, string> = {
      messageNew: "incoming",
      NEW_EMAIL: "incoming",
      "message.appended": "incoming",
      messageSent: "success",
      delivery: "success",
      "message.accepted": "success",
      email_processed: "success",
      messageBounce: "failure",
      bounce: "failure",
      soft_bounce: "failure",
      messageDeliveryError: "failure",
      messageFailed: "failure",
      messageComplaint: "failure",
      spam: "failure",
      "auth.failure": "failure",
      "account.over-quota": "failure",
      open: "other",
      click: "other",
      unsubscribe: "other",
      ping: "other",
    };
    for (const [type, kind] of Object.entries(expected)) assert.equal(classifyEvent(type), kind, type);
  });

  it("turns event types into words", () => {
    assert.equal(humanizeEventType("messageNew"), "Message new");
    assert.equal(humanizeEventType("NEW_EMAIL"), "New email");
    assert.equal(humanizeEventType("auth.failure"), "Auth failure");
  });

  it("reads EmailEngine, Mailtrap, Stalwart, MailSlurp and Mailpilot fields", () => {
    const ee = summarizeEmailEvent(emailEngineMessageNew);
    assert.equal(ee.subject, "Invoice 1043 is ready");
    assert.equal(ee.from, "Ada Lovelace <ada@example.com>");
    assert.deepEqual(ee.to, ["Support <support@example.org>", "billing@example.org"]);
    assert.equal(ee.text, "Hello,\n\nYour invoice 1043 for 120 EUR is attached.\n\nThanks,\nAda");
    assert.equal(ee.account, "support");
    const trap = summarizeEmailEvent(mailtrapBounce);
    assert.deepEqual(trap.to, ["recipient@example.com"]);
    assert.equal(trap.reason, "550 5.1.1 The email account that you tried to reach does not exist");
    assert.equal(trap.messageId, "abc-123");
    const bounce = summarizeEmailEvent(emailEngineBounce);
    assert.deepEqual(bounce.to, ["nobody@example.net"]);
    assert.match(bounce.reason ?? "", /Recipient address rejected/);
    const stalwart = summarizeEmailEvent(stalwartAccepted);
    assert.equal(stalwart.from, "alice@example.org");
    assert.deepEqual(stalwart.to, ["john@example.com", "jane@example.com"]);
    const slurp = summarizeEmailEvent(mailSlurpNewEmail);
    assert.equal(slurp.from, "sender@example.com");
    assert.equal(slurp.subject, "Welcome to the beta");
    const pilot = summarizeEmailEvent(mailpilotProcessed);
    assert.equal(pilot.subject, "Important Update");
    assert.equal(pilot.from, "sender@example.com");
  });

  it("reads a map output (not an event) as the body itself", () => {
    const summary = summarizeEmailEvent({ event: "bounce", email: "x@y", timestamp: 1728669700 });
    assert.equal(summary.eventType, "bounce");
    assert.deepEqual(summary.to, ["x@y"]);
    assert.equal(summary.occurredAt, "2024-10-11T18:01:40.000Z");
  });
});

describe("Slack preset", () => {
  for (const [name, event] of Object.entries(ALL_EVENTS)) {
    it(`renders ${name} as a valid Slack message with a text fallback`, () => {
      const message = slack(event);
      assert.deepEqual(checkSlackMessage(message), []);
      assert.ok(message.text.trim().length > 0);
      assert.equal(message.blocks[0]?.type, "header");
      assert.equal(message.blocks.at(-1)?.type, "context");
    });
  }

  it("EmailEngine messageNew: subject header, sender/recipients/account/event fields, excerpt, time", () => {
    const message = slack(emailEngineMessageNew);
    assert.equal(message.blocks[0]?.text?.text, ":incoming_envelope: Invoice 1043 is ready");
    assert.deepEqual(fieldTexts(message), [
      "*From*\nAda Lovelace &lt;ada@example.com&gt;",
      "*To*\nSupport &lt;support@example.org&gt;, billing@example.org",
      "*Account*\nsupport",
      "*Event*\nmessageNew",
      "*Message ID*\n&lt;a1b2c3@example.com&gt;",
    ]);
    assert.equal(
      message.blocks[2]?.text?.text,
      "Hello,\n\nYour invoice 1043 for 120 EUR is attached.\n\nThanks,\nAda",
    );
    assert.match(
      message.blocks[3]?.elements?.[0]?.text ?? "",
      /^<!date\^1728667300\^\{date_short_pretty\} \{time_secs\}\|2024-10-11T17:21:40.000Z> · emailengine · evt_messageNew$/,
    );
    assert.equal(
      message.text,
      "messageNew: Invoice 1043 is ready — from Ada Lovelace &lt;ada@example.com&gt;",
    );
  });

  it("Mailtrap bounce: red siren, recipient and reason", () => {
    const message = slack(mailtrapBounce);
    assert.equal(message.blocks[0]?.text?.text, ":rotating_light: Bounce");
    const fields = fieldTexts(message);
    assert.ok(fields.includes("*To*\nrecipient@example.com"));
    assert.ok(fields.some((f) => f.startsWith("*Reason*\n550 5.1.1")));
    assert.ok(fields.some((f) => f === "*Bounce category*\nbadrecipient"));
  });

  it("Stalwart auth failure: shows its details instead of mail fields", () => {
    const fields = fieldTexts(slack(stalwartAuthFailure));
    assert.ok(fields.includes("*Remote ip*\n192.0.2.10"));
    assert.ok(fields.includes("*Account name*\njohn"));
  });

  it("a bare event with no data still says what happened", () => {
    const message = slack(bareEvent);
    assert.equal(message.blocks[0]?.text?.text, ":email: Ping");
    assert.equal(message.text, "ping");
  });

  it("lists five recipients and counts the rest", () => {
    const to = Array.from({ length: 8 }, (_, i) => ({ name: "", address: `r${i}@x` }));
    const data = { ...(emailEngineMessageNew.data as object), to };
    assert.ok(
      fieldTexts(slack({ ...emailEngineMessageNew, data })).includes(
        "*To*\nr0@x, r1@x, r2@x, r3@x, r4@x (+3 more)",
      ),
    );
  });

  it("excerpts long text and reports it", () => {
    const data = { ...(emailEngineMessageNew.data as object), text: { plain: "word ".repeat(1000) } };
    const rendered = renderBody({ kind: "slack" }, { ...emailEngineMessageNew, data }, "preset@1");
    assert.deepEqual(rendered.truncations, [
      { path: "blocks[2].text.text", limit: PRESET_EXCERPT_CHARS, originalLength: 4999 },
    ]);
  });
});

describe("Discord preset", () => {
  for (const [name, event] of Object.entries(ALL_EVENTS)) {
    it(`renders ${name} as a valid Discord message that cannot mention anyone`, () => {
      const message = discord(event);
      assert.deepEqual(checkDiscordMessage(message), []);
      assert.deepEqual(message.allowed_mentions, { parse: [] });
      assert.equal(message.embeds.length, 1);
    });
  }

  it("colours by event kind", () => {
    assert.equal(discord(mailtrapBounce).embeds[0]?.color, DISCORD_COLORS.failure);
    assert.equal(discord(emailEngineBounce).embeds[0]?.color, DISCORD_COLORS.failure);
    assert.equal(discord(mailtrapDelivery).embeds[0]?.color, DISCORD_COLORS.success);
    assert.equal(discord(emailEngineMessageNew).embeds[0]?.color, DISCORD_COLORS.incoming);
    assert.equal(discord(mailSlurpNewEmail).embeds[0]?.color, DISCORD_COLORS.incoming);
    assert.equal(discord(bareEvent).embeds[0]?.color, DISCORD_COLORS.other);
  });

  it("EmailEngine messageNew: title, description, fields, footer, timestamp", () => {
    const embed = discord(emailEngineMessageNew).embeds[0];
    assert.equal(embed?.title, "Invoice 1043 is ready");
    assert.equal(embed?.description, "Hello,\n\nYour invoice 1043 for 120 EUR is attached.\n\nThanks,\nAda");
    assert.deepEqual(embed?.fields[0], {
      name: "From",
      value: "Ada Lovelace \\<ada@example.com\\>",
      inline: true,
    });
    assert.equal(embed?.footer.text, "Hookgate · emailengine · evt_messageNew");
    assert.equal(embed?.timestamp, "2024-10-11T17:21:40.000Z");
  });

  it("ignores allowMentions for preset text, which comes from the email", () => {
    const rendered = renderBody({ kind: "discord", allowMentions: true }, emailEngineMessageNew, "preset@1");
    assert.deepEqual((JSON.parse(rendered.body) as Discord).allowed_mentions, { parse: [] });
  });
});

describe("preset input that is expensive to tidy", () => {
  it("handles a megabyte of spaces without a newline", () => {
    const data = { ...(emailEngineMessageNew.data as object), text: { plain: `${" ".repeat(1_000_000)}x` } };
    const message = slack({ ...emailEngineMessageNew, data });
    assert.deepEqual(checkSlackMessage(message), []);
  });
});
