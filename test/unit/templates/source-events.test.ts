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
});
