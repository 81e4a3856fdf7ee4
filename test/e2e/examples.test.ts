import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadRouteFile } from "../../src/routes-as-code/index.ts";
import { checkDiscordMessage, checkSlackMessage } from "../../src/templates/index.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

/** The examples in routes/ and functions/ are saved through the API and dry-run on sample events. */

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

const fixture = async (name: string) =>
  JSON.parse(await readFile(join("test/fixtures/events", `${name}.json`), "utf8")) as Record<string, unknown>;

/**
 * For each example route: the samples of the sources it is meant for (samples/sources, as
 * GET /v1/sources/samples lists them, turned into events by the source's own adapter) that it must
 * fire on, and those it must leave alone. `event:` names an event posted to /v1/events instead.
 */
const expectations: Record<string, { takes: string[]; leaves: string[] }> = {
  "invoices-to-billing.json": {
    takes: ["emailengine/messageNew.json", "event:emailengine-message-new"],
    leaves: ["emailengine/messageBounce.json", "emailengine/messageUpdated.json"],
  },
  "hard-bounces.json": {
    takes: ["emailengine/messageBounce.json", "mailtrap/bounce.json"],
    leaves: ["mailtrap/soft-bounce.json", "emailengine/messageNew.json", "mailtrap/delivery.json"],
  },
  "vip-to-slack.json": {
    takes: [
      "emailengine/messageNew.json",
      "mailslurp/NEW_EMAIL.json",
      "event:emailengine-message-new",
      "event:hostile-vip-message",
    ],
    leaves: ["emailengine/messageBounce.json", "mailslurp/EMAIL_RECEIVED.json"],
  },
  "bounces-to-discord.json": {
    takes: [
      "emailengine/messageBounce.json",
      "mailtrap/bounce.json",
      "mailtrap/soft-bounce.json",
      "mailslurp/BOUNCE.json",
      "stalwart/dsn.json",
    ],
    leaves: ["emailengine/messageNew.json", "mailtrap/delivery.json"],
  },
  "mail-to-internal-api.json": {
    takes: ["emailengine/messageNew.json", "event:emailengine-message-new", "event:hostile-vip-message"],
    leaves: ["emailengine/messageBounce.json"],
  },
  "hookgate-news-to-slack.json": {
    takes: [
      "event:hookgate-route-disabled",
      "event:hookgate-breaker-opened",
      "event:hookgate-delivery-failed",
      "event:hookgate-source-rejected",
    ],
    leaves: ["emailengine/messageBounce.json", "mailtrap/bounce.json", "event:emailengine-message-new"],
  },
};

const mentions: Record<string, string[]> = {
  "invoices-to-billing.json": ["Invoice 1043", "ada@example.com"],
  "vip-to-slack.json": ["Invoice 1043", "ada@example.com"],
  "mail-to-internal-api.json": ['"title": "Invoice 1043', '"requester": "ada@example.com"'],
  // The own-events preset: what happened, to what, and why (src/templates/own-event-summary.ts).
  "hookgate-news-to-slack.json": ["hookgate."],
};

/** What each own event's message must say, beyond its type. */
const newsMentions: Record<string, string[]> = {
  "event:hookgate-route-disabled": ["Route turned off", "rte_0123456789abcdef", "target answered 410 Gone"],
  "event:hookgate-breaker-opened": ["Target breaker opened", "5f0c2d9e8a7b6c5d4e3f", "HTTP 503"],
  "event:hookgate-delivery-failed": ["Delivery failed for good", "dlv_0123456789abcdef", "ENOTFOUND"],
  "event:hookgate-source-rejected": ["Source refused requests", "src_0123456789abcdef", "HG_ERR_SIGNATURE"],
};

/** The dry-run input for a sample file or an event fixture. */
const input = async (name: string) =>
  name.startsWith("event:") ? { event: await fixture(name.slice("event:".length)) } : { sample: name };

/** Every string in a Slack message that Slack parses as mrkdwn (plain_text is never parsed). */
function mrkdwnTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) mrkdwnTexts(n, out);
  else if (node && typeof node === "object") {
    const o = node as Record<string, unknown>;
    if (o.type === "mrkdwn" && typeof o.text === "string") out.push(o.text);
    for (const v of Object.values(o)) if (typeof v === "object") mrkdwnTexts(v, out);
  }
  return out;
}

/** A hostile subject must not ping or link in Slack, and a JSON body must stay one document. */
function assertDefused(kind: string | undefined, raw: string) {
  const body = JSON.parse(raw);
  if (kind === "slack") {
    for (const text of [body.text, ...mrkdwnTexts(body.blocks)]) {
      assert.ok(!text.includes("<!channel>"), `no channel ping in ${JSON.stringify(text)}`);
      assert.ok(!text.includes("<https://evil"), "no injected link");
    }
    assert.ok(body.blocks[0].text.text.length <= 150, "header cut to Slack's limit");
  } else {
    assert.match(body.ticket.title, /^<!channel> URGENT "quoted" \\ back\nslash \u2028/);
  }
}

describe("example routes", () => {
  it("has an expectation for every file in routes/", async () => {
    const files = (await readdir("routes")).filter((f) => f.endsWith(".json")).sort();
    assert.deepEqual(files, Object.keys(expectations).sort());
  });

  for (const [file, { takes, leaves }] of Object.entries(expectations)) {
    it(`${file} saves and walks its sample events as intended`, async () => {
      const route = await loadRouteFile(join("routes", file));
      const saved = await gw.call("POST", "/v1/routes", route);
      assert.equal(saved.status, 201, JSON.stringify(saved.json));
      for (const name of [...takes, ...leaves]) {
        const res = await gw.call("POST", "/v1/dry-run", { ...(await input(name)), routeId: saved.json.id });
        assert.equal(res.status, 200, JSON.stringify(res.json));
        const [result] = res.json.results;
        assert.equal(result.error, undefined, `${file} on ${name}: ${JSON.stringify(result.error)}`);
        assert.equal(result.matched, takes.includes(name), `${file} on ${name}`);
        if (!result.matched) continue;
        const body = JSON.parse(result.request.body);
        const kind = route.template?.kind;
        if (kind === "slack") assert.deepEqual(checkSlackMessage(body), [], `${file} on ${name}`);
        if (kind === "discord") assert.deepEqual(checkDiscordMessage(body), [], `${file} on ${name}`);
        if (name === "event:hostile-vip-message") assertDefused(kind, result.request.body);
        // What the route sends is read from the event, not left empty: a new message's subject
        // and sender (the Discord preset's reading of each system is tested with event.email).
        const wanted = mentions[file];
        if (wanted && name !== "event:hostile-vip-message")
          for (const w of wanted) assert.ok(result.request.body.includes(w), `${file} on ${name}: ${w}`);
        for (const w of newsMentions[name] ?? [])
          assert.ok(result.request.body.includes(w), `${file} on ${name}: ${w}`);
      }
    });
  }
});
