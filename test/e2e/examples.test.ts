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

// For each example route: the sample events it must take, and those it must leave alone.
const expectations: Record<string, { takes: string[]; leaves: string[] }> = {
  "invoices-to-billing.json": { takes: ["emailengine-message-new"], leaves: ["emailengine-message-bounce"] },
  "hard-bounces.json": { takes: ["emailengine-message-bounce"], leaves: ["emailengine-message-new"] },
  "vip-to-slack.json": {
    takes: ["emailengine-message-new", "hostile-vip-message"],
    leaves: ["emailengine-message-bounce"],
  },
  "bounces-to-discord.json": { takes: ["emailengine-message-bounce"], leaves: ["emailengine-message-new"] },
  "mail-to-internal-api.json": {
    takes: ["emailengine-message-new", "hostile-vip-message"],
    leaves: ["emailengine-message-bounce"],
  },
};

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
        const res = await gw.call("POST", "/v1/dry-run", {
          event: await fixture(name),
          routeId: saved.json.id,
        });
        assert.equal(res.status, 200);
        const [result] = res.json.results;
        assert.equal(result.error, undefined, `${file} on ${name}: ${JSON.stringify(result.error)}`);
        assert.equal(result.matched, takes.includes(name), `${file} on ${name}`);
        if (!result.matched) continue;
        const body = JSON.parse(result.request.body);
        const kind = route.template?.kind;
        if (kind === "slack") assert.deepEqual(checkSlackMessage(body), [], `${file} on ${name}`);
        if (kind === "discord") assert.deepEqual(checkDiscordMessage(body), [], `${file} on ${name}`);
        if (name === "hostile-vip-message") assertDefused(kind, result.request.body);
      }
    });
  }
});
