import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventsOfSample, listSamples } from "../../../src/sources/index.ts";
import { checkDiscordMessage, checkSlackMessage, renderBody } from "../../../src/templates/index.ts";

/** Events that came in through a source keep the sender's whole body; the presets read into it. */
describe("presets on events from sources", () => {
  it("show the subject of an EmailEngine message wrapped in its webhook envelope", async () => {
    const [event] = (await eventsOfSample("emailengine/messageNew.json")) ?? [];
    assert.ok(event);
    const slack = JSON.parse(renderBody({ kind: "slack" }, event, "t@1").body);
    const inner = (event.data as { data: { subject: string } }).data;
    assert.ok(slack.text.includes(inner.subject), slack.text);
    const discord = JSON.parse(renderBody({ kind: "discord" }, event, "t@1").body);
    assert.equal(discord.embeds[0].title.includes(inner.subject), true, discord.embeds[0].title);
  });

  it("render every sample of every system within Slack's and Discord's limits", async () => {
    for (const sample of await listSamples()) {
      for (const event of (await eventsOfSample(sample.file)) ?? []) {
        const slack = JSON.parse(renderBody({ kind: "slack" }, event, "t@1").body);
        assert.deepEqual(checkSlackMessage(slack), [], sample.file);
        const discord = JSON.parse(renderBody({ kind: "discord" }, event, "t@1").body);
        assert.deepEqual(checkDiscordMessage(discord), [], sample.file);
      }
    }
  });

  it("read event.email, not the sender's body", async () => {
    const [event] = (await eventsOfSample("emailengine/messageNew.json")) ?? [];
    assert.ok(event?.email);
    const changed = { ...event, email: { ...event.email, subject: "From the view" } };
    const slack = JSON.parse(renderBody({ kind: "slack" }, changed, "t@1").body);
    assert.equal(slack.blocks[0].text.text, ":incoming_envelope: From the view");
    const discord = JSON.parse(renderBody({ kind: "discord" }, changed, "t@1").body);
    assert.equal(discord.embeds[0].title, "From the view");
  });

  it("show what the view knows that no sender-specific lookup found before", async () => {
    const fieldsOf = async (file: string) => {
      const [event] = (await eventsOfSample(file)) ?? [];
      const slack = JSON.parse(renderBody({ kind: "slack" }, event, "t@1").body);
      return {
        header: slack.blocks[0].text.text as string,
        fields: (slack.blocks[1].fields as Array<{ text: string }>).map((f) => f.text),
      };
    };
    // A complaint: the reported message's subject, sender and recipient are in its headers.
    const complaint = await fieldsOf("emailengine/messageComplaint.json");
    assert.equal(complaint.header, ":rotating_light: Your receipt");
    assert.ok(complaint.fields.includes("*From*\nsupport@example.org"));
    assert.ok(complaint.fields.includes("*To*\nada@example.com"));
    assert.ok(complaint.fields.includes("*Status*\ncomplained"));
    assert.ok(complaint.fields.includes("*Reason*\nabuse"));
    // A MailSlurp bounce names its recipients in fields of its own.
    const slurp = await fieldsOf("mailslurp/BOUNCE.json");
    assert.deepEqual(slurp.fields, [
      "*From*\nsupport@mailslurp.example",
      "*To*\nnobody@example.com",
      "*Event*\nBOUNCE",
      "*Status*\nbounced (hard)",
    ]);
    const soft = await fieldsOf("mailtrap/soft-bounce.json");
    assert.ok(soft.fields.includes("*Status*\nbounced (soft)"));
    assert.ok(soft.fields.includes("*Reason*\n452 4.2.2 Mailbox full"));
    // Mailpilot's error says what and where.
    const pilot = await fieldsOf("mailpilot/error.json");
    assert.ok(
      pilot.fields.includes(
        "*Reason*\nIMAP connection timeout: Connection to imap.example.com timed out after 30s",
      ),
    );
  });
});
