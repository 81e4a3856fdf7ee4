import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import type { HookgateEvent } from "../../../src/events/index.ts";
import { OWN_EVENT_TYPES } from "../../../src/events/index.ts";
import { OwnEvents } from "../../../src/own-events/index.ts";
import { buildRoute, RouteInSchema } from "../../../src/routing/index.ts";
import { checkDiscordMessage, checkSlackMessage, renderBody } from "../../../src/templates/index.ts";

type SlackText = { type: string; text: string };
type Slack = {
  text: string;
  blocks: Array<{ type: string; text?: SlackText; fields?: SlackText[]; elements?: SlackText[] }>;
};

const NOW = Date.parse("2026-11-20T09:20:30.000Z");

/** Every own event type, emitted by the real OwnEvents into a list standing in for the stream. */
async function emitted(): Promise<HookgateEvent[]> {
  const out: HookgateEvent[] = [];
  const own = new OwnEvents({ accept: async (events) => out.push(...events) }, { now: () => NOW });
  const route = buildRoute(
    RouteInSchema.parse({
      name: "Invoices to billing",
      events: ["messageNew"],
      target: { url: "http://127.0.0.1:9/hook", signing: { scheme: "none" } },
    }),
  );
  own.routeDisabled(route, "target answered 410 Gone", null);
  own.routeSwitched({ ...route, enabled: false, disabledReason: "target answered 410 Gone" }, route, {
    keyId: "key_ops",
  });
  const open = { state: "open" as const, failingSince: NOW - 300_000, openUntil: NOW + 60_000 };
  own.breakerChanged("5f0c2d9e8a7b6c5d4e3f", undefined, open, { statusCode: 503, errorCode: null });
  own.breakerChanged(
    "5f0c2d9e8a7b6c5d4e3f",
    open,
    { state: "closed", failingSince: null, openUntil: 0 },
    {
      statusCode: 200,
      errorCode: null,
    },
  );
  own.targetPaused("5f0c2d9e8a7b6c5d4e3f", NOW + 30_000, 429);
  own.deliveryFailed({
    id: "dlv_1",
    routeId: route.id,
    routeVersion: 4,
    eventId: "evt_1",
    eventType: "messageNew",
    attempts: 8,
    error: { code: "E_DNS", message: "E_DNS: getaddrinfo ENOTFOUND billing.example.invalid" },
  });
  own.sourceRejected("src_1", "emailengine", "HG_ERR_SIGNATURE");
  own.sourceRejected("src_1", "emailengine", "HG_ERR_SIGNATURE");
  await own.close();
  return out;
}

const slack = (payload: unknown) => JSON.parse(renderBody({ kind: "slack" }, payload, "own@1").body) as Slack;
const allText = (m: Slack) =>
  [
    m.text,
    ...m.blocks.flatMap((b) => [
      b.text?.text,
      ...(b.fields ?? []).map((f) => f.text),
      ...(b.elements ?? []).map((e) => e.text),
    ]),
  ]
    .filter(Boolean)
    .join("\n");

describe("Slack and Discord presets for Hookgate's own events", () => {
  it("render every own event type as a valid operational message", async () => {
    const events = await emitted();
    assert.deepEqual([...new Set(events.map((e) => e.type))].sort(), [...OWN_EVENT_TYPES].sort());
    for (const event of events) {
      const message = slack(event);
      assert.deepEqual(checkSlackMessage(message), [], event.type);
      const discord = JSON.parse(renderBody({ kind: "discord" }, event, "own@1").body);
      assert.deepEqual(checkDiscordMessage(discord), [], event.type);
      const text = allText(message);
      assert.ok(text.includes(event.type), `${event.type}: names the type`);
      assert.ok(text.includes(`<!date^${Math.floor(NOW / 1000)}^`), `${event.type}: says when`);
      // Operational news, not an email: no From/To/Message ID fields, and no link of any kind.
      assert.doesNotMatch(text, /\*From\*|\*To\*|\*Message ID\*/, event.type);
      assert.doesNotMatch(text, /https?:\/\/|<http|<mailto/, event.type);
    }
  });

  it("say what happened, to which route or target, and why", async () => {
    const byType = new Map((await emitted()).map((e) => [e.type, e]));
    const disabled = allText(slack(byType.get("hookgate.route.disabled")));
    assert.match(disabled, /Route turned off: Invoices to billing/);
    assert.match(disabled, /\*Reason\*\ntarget answered 410 Gone/);
    assert.match(disabled, /\*By\*\nHookgate/);
    assert.match(disabled, /\*Route\*\n“Invoices to billing” \(rte_\w+, version 1\)/);
    const enabled = slack(byType.get("hookgate.route.enabled"));
    assert.match(enabled.blocks[0]?.text?.text ?? "", /^:white_check_mark: Route turned on/);
    assert.match(allText(enabled), /\*By\*\nkey key_ops/);
    assert.match(allText(enabled), /\*Was off because\*\ntarget answered 410 Gone/);
    const opened = allText(slack(byType.get("hookgate.target.breaker_opened")));
    assert.match(opened, /\*Target\*\n5f0c2d9e8a7b6c5d4e3f/);
    assert.match(opened, /\*Reason\*\nHTTP 503/);
    assert.match(opened, /\*Open until\*\n2026-11-20T09:21:30.000Z/);
    assert.match(allText(slack(byType.get("hookgate.target.paused"))), /\*Retry-After\*\n30 s/);
    const failed = allText(slack(byType.get("hookgate.delivery.failed")));
    assert.match(failed, /\*Reason\*\nE_DNS: getaddrinfo ENOTFOUND billing\.example\.invalid/);
    assert.match(failed, /\*Attempts\*\n8/);
    assert.match(failed, /\*Of event\*\nmessageNew evt_1/);
    const rejected = allText(slack(byType.get("hookgate.source.rejected")));
    assert.match(rejected, /\*Source\*\nsrc_1 \(emailengine\)/);
    assert.match(rejected, /\*Reason\*\nHG_ERR_SIGNATURE ×2/);
  });

  it("escapes what routes and targets wrote, and fits Slack's limits", async () => {
    const [event] = await emitted();
    assert.ok(event);
    const hostile = {
      ...event,
      data: {
        ...(event.data as object),
        routeName: "<!channel> <https://evil.example|click> &",
        reason: "x".repeat(5000),
      },
    };
    const message = slack(hostile);
    assert.deepEqual(checkSlackMessage(message), []);
    const text = allText(message);
    assert.ok(!text.includes("<!channel>"));
    assert.ok(!text.includes("<https://evil"));
    assert.ok(text.includes("&lt;!channel&gt;"));
    const rendered = renderBody({ kind: "slack" }, hostile, "own@1");
    assert.ok(rendered.truncations.length > 0, "the long reason is cut and reported");
  });

  it("the hookgate event fixtures carry the fields the gateway emits", async () => {
    const events = await emitted();
    for (const name of ["route-disabled", "breaker-opened", "delivery-failed", "source-rejected"]) {
      const fixture = JSON.parse(await readFile(`test/fixtures/events/hookgate-${name}.json`, "utf8"));
      const real = events.find((e) => e.type === fixture.type);
      assert.ok(real, fixture.type);
      assert.deepEqual(Object.keys(fixture.data).sort(), Object.keys(real.data as object).sort(), name);
    }
  });
});
