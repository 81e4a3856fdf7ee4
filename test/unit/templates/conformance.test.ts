/**
 * One conformance suite for every template kind: the same hostile email values go through the
 * slack and discord presets and bodies, a json body and a text body, and each output must be
 * valid for its target, within its limits, unable to ping or inject, and honest about every cut.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkDiscordMessage,
  checkSlackMessage,
  DISCORD_LIMITS,
  type RenderedBody,
  renderBody,
  SLACK_LIMITS,
  type Template,
  type Truncation,
} from "../../../src/templates/index.ts";
import { HOSTILE_VALUES, withHostileValue } from "../../fixtures/templates/email-events.ts";

const SLACK_BODY = `{
  "text": "{{escapeMrkdwn data.subject}}",
  "blocks": [
    {"type": "header", "text": {"type": "plain_text", "text": "{{escapeMrkdwn data.subject}}"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*From* {{escapeMrkdwn data.from.name}}"},
     "fields": [{"type": "mrkdwn", "text": "{{escapeMrkdwn data.text.plain}}"}]}
  ]
}`;
const DISCORD_BODY = `{
  "content": "{{data.subject}}",
  "embeds": [{"title": "{{data.subject}}", "description": "{{data.text.plain}}",
    "fields": [{"name": "From", "value": "{{data.from.name}}"}], "footer": {"text": "{{data.subject}}"}}]
}`;

const KINDS: Record<string, Template> = {
  "slack preset": { kind: "slack" },
  "slack body": { kind: "slack", body: SLACK_BODY },
  "discord preset": { kind: "discord" },
  "discord body": { kind: "discord", body: DISCORD_BODY },
  json: {
    kind: "json",
    body: '{"subject": "{{data.subject}}", "from": {{json data.from}}, "text": {{json data.text}}}',
  },
  text: { kind: "text", body: "{{data.subject}}\n{{{data.from.name}}}" },
};

/** Every string in a JSON value, with its path. */
function strings(value: unknown, path = ""): Array<[string, string]> {
  if (typeof value === "string") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => strings(v, path ? `${path}.${k}` : k));
  }
  return [];
}

/** Follows a truncation path such as `blocks[0].fields[2].text` or `embeds`. */
function resolve(root: unknown, path: string): unknown {
  let value = root;
  for (const [, key, index] of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    const step = key ?? Number(index);
    value = (value as Record<string | number, unknown> | undefined)?.[step];
  }
  return value;
}

function assertCutsHonest(message: unknown, truncations: Truncation[]): void {
  for (const cut of truncations) {
    const value = resolve(message, cut.path);
    if (typeof value === "string") {
      assert.ok(value.length <= cut.limit, `${cut.path}: ${value.length} > ${cut.limit}`);
      assert.ok(value.endsWith("…"), `${cut.path} was cut without an ellipsis`);
    } else if (Array.isArray(value)) {
      assert.ok(value.length <= cut.limit, `${cut.path}: ${value.length} items > ${cut.limit}`);
    } else {
      // A value trimmed away entirely to fit a total (a Discord description or footer).
      assert.equal(cut.limit, 0, `${cut.path} missing from the message`);
    }
    assert.ok(cut.originalLength > cut.limit, `${cut.path}: nothing was cut`);
  }
  // Conversely, nothing ends in "…" unless a cut was reported there or above it.
  for (const [path, text] of strings(message)) {
    if (!text.endsWith("…")) continue;
    assert.ok(
      truncations.some((cut) => path === cut.path),
      `${path} ends in "…" but no truncation was reported`,
    );
  }
}

function assertWellFormed(message: unknown): void {
  for (const [path, text] of strings(message)) {
    assert.ok(text.isWellFormed(), `${path} has a split surrogate pair`);
  }
}

function assertSlackSafe(message: unknown): void {
  for (const [path, text] of strings(message)) {
    if (path.endsWith(".type")) continue;
    // The preset's own `<!date^…|…>` token is the only markup allowed to reach Slack raw.
    const withoutDate = text.replace(/<!date\^\d+\^[^|>]*\|[^>]*>/g, "");
    assert.ok(!/[<>]/.test(withoutDate), `${path} contains raw < or >: ${withoutDate.slice(0, 80)}`);
    for (const match of withoutDate.matchAll(/&/g)) {
      const rest = withoutDate.slice(match.index, match.index + 5);
      assert.match(rest, /^&(amp|lt|gt);/, `${path} has a broken entity ${JSON.stringify(rest)}`);
    }
  }
}

function assertDiscordSafe(message: unknown, escapesMarkdown: boolean): void {
  assert.deepEqual((message as { allowed_mentions?: unknown }).allowed_mentions, { parse: [] });
  for (const [path, text] of strings(message)) {
    assert.ok(!/@(everyone|here)/i.test(text) || !escapesMarkdown, `${path} can ping: ${text.slice(0, 60)}`);
    if (!escapesMarkdown || !/\.(description|value)$/.test(path)) continue;
    for (const match of text.matchAll(/[<[\]]/g)) {
      const slashes = /\\*$/.exec(text.slice(0, match.index))?.[0].length ?? 0;
      assert.equal(slashes % 2, 1, `${path} has an unescaped ${match[0]}`);
    }
  }
}

for (const [kindName, template] of Object.entries(KINDS)) {
  describe(`conformance: ${kindName}`, () => {
    for (const [valueName, value] of Object.entries(HOSTILE_VALUES)) {
      it(`handles ${valueName}`, () => {
        const event = withHostileValue(value);
        const before = JSON.stringify(event);
        let rendered: RenderedBody;
        try {
          rendered = renderBody(template, event, `conformance-${kindName}@1`);
        } catch (error) {
          assert.fail(`${kindName} failed on ${valueName}: ${String(error)}`);
        }
        assert.equal(JSON.stringify(event), before, "the payload was mutated");

        if (template.kind === "text") {
          assert.equal(rendered.body, `${value}\n${value}`);
          assert.deepEqual(rendered.truncations, []);
          return;
        }
        const message = JSON.parse(rendered.body) as Record<string, unknown>;
        assert.equal(rendered.contentType, "application/json");
        if (template.kind === "json") {
          assert.equal(message.subject, value);
          assert.deepEqual(message.from, { name: value, address: "mallory@example.com" });
          assert.deepEqual(message.text, { plain: value });
          return;
        }
        assertWellFormed(message);
        assertCutsHonest(message, rendered.truncations);
        if (template.kind === "slack") {
          assert.deepEqual(checkSlackMessage(message), []);
          assertSlackSafe(message);
          const header = (message.blocks as Array<{ text?: { text: string } }>)[0]?.text?.text ?? "";
          assert.ok(header.length <= SLACK_LIMITS.headerText);
        } else {
          assert.deepEqual(checkDiscordMessage(message), []);
          assertDiscordSafe(message, template.body === undefined);
          const embeds = message.embeds as Array<{ title?: string }>;
          assert.ok((embeds[0]?.title ?? "").length <= DISCORD_LIMITS.title);
        }
      });
    }
  });
}

describe("conformance: size reporting", () => {
  it("a 10,000-character subject is cut in the Slack header and fields, and each cut is reported", () => {
    const rendered = renderBody({ kind: "slack" }, withHostileValue("S".repeat(10_000)), "size@1");
    const paths = rendered.truncations.map((t) => t.path);
    assert.ok(paths.includes("blocks[0].text.text"));
    assert.ok(paths.includes("blocks[1].fields[0].text"));
    assert.ok(paths.includes("blocks[2].text.text"));
    assert.ok(paths.includes("text"));
  });

  it("a 10,000-character subject is cut in the Discord title and description, and each cut is reported", () => {
    const rendered = renderBody({ kind: "discord" }, withHostileValue("S".repeat(10_000)), "size@1");
    const paths = rendered.truncations.map((t) => t.path);
    assert.ok(paths.includes("embeds[0].title"));
    assert.ok(paths.includes("embeds[0].description"));
    assert.ok(paths.includes("embeds[0].fields[0].value"));
  });
});
