/**
 * Turns a route's payload (the map output, else the event) into the HTTP body its target expects.
 *
 * Contract
 * - input: the route's template (or none), the payload (JSON data), and `routeId@version` as the
 *   cache key for compiled bodies.
 * - output: body, content type, and every truncation made to fit the target's limits.
 * - failures: TemplateRenderError (naming the template kind) when a body does not compile, renders
 *   invalid JSON or something that is not a message, exceeds 1 MiB, or cannot be made valid.
 * - never: mutates the payload (other routes read it too).
 */

import { cloneJson, isRecord, type JsonRecord } from "../shared/json-value.ts";
import { checkDiscordMessage, fitDiscordMessage, isDiscordMessage } from "./discord-limits.ts";
import { buildDiscordPreset } from "./discord-preset.ts";
import { type EmailSummary, summarizeEmailEvent } from "./email-summary.ts";
import { TemplateRenderError, TemplateSyntaxError } from "./errors.ts";
import {
  compileTemplate,
  type Dialect,
  MAX_OUTPUT_BYTES,
  RENDER_WORK_BUDGET,
  renderTemplate,
} from "./handlebars-env.ts";
import { isOwnEventPayload, summarizeOwnEvent } from "./own-event-summary.ts";
import { checkSlackMessage, fitSlackMessage, isSlackMessage } from "./slack-limits.ts";
import { buildSlackPreset } from "./slack-preset.ts";
import { DEFAULT_TEXT_CONTENT_TYPE, type Template, type TemplateKind } from "./template-schema.ts";
import { mergeTruncations } from "./truncation-log.ts";
import type { RenderedBody, Truncation } from "./types.ts";

const JSON_CONTENT_TYPE = "application/json";

function dialectOf(kind: TemplateKind): Dialect {
  return kind === "text" ? "text" : "json";
}

/** Compiles a template's body so a route with a broken one is refused when saved. */
export function checkTemplate(template: Template): void {
  if (template.body === undefined) {
    if (template.kind === "json" || template.kind === "text") {
      throw new TemplateSyntaxError(template.kind, "a body is required", 1, 1);
    }
    return;
  }
  compileTemplate(template.kind, dialectOf(template.kind), template.body);
}

/**
 * `workBudget` below RENDER_WORK_BUDGET asks for a cheap render: past it, RenderTooBigForBudget is
 * thrown instead of a render error (see contained-render.ts).
 */
export function renderBody(
  template: Template | undefined | null,
  payload: unknown,
  cacheKey: string,
  workBudget: number = RENDER_WORK_BUDGET,
): RenderedBody {
  if (!template) {
    // The payload as it is: its size was bounded when the event was accepted and by the map.
    return { body: JSON.stringify(payload) ?? "null", contentType: JSON_CONTENT_TYPE, truncations: [] };
  }
  switch (template.kind) {
    case "json": {
      const body = renderTemplate("json", "json", template.body, payload, cacheKey, workBudget);
      parseRendered("json", body);
      return { body, contentType: JSON_CONTENT_TYPE, truncations: [] };
    }
    case "text": {
      const body = renderTemplate("text", "text", template.body, payload, cacheKey, workBudget);
      return { body, contentType: template.contentType ?? DEFAULT_TEXT_CONTENT_TYPE, truncations: [] };
    }
    case "slack":
      return renderSlack(template.body, payload, cacheKey, workBudget);
    case "discord":
      return renderDiscord(template.body, template.allowMentions === true, payload, cacheKey, workBudget);
  }
}

function renderSlack(
  body: string | undefined,
  payload: unknown,
  cacheKey: string,
  workBudget: number,
): RenderedBody {
  let message: JsonRecord;
  let truncations: Truncation[] = [];
  if (body !== undefined) {
    message = renderedMessage("slack", renderTemplate("slack", "json", body, payload, cacheKey, workBudget));
  } else if (isSlackMessage(payload)) {
    message = cloneJson(payload);
  } else {
    const preset = buildSlackPreset(summarize(payload));
    message = preset.message;
    truncations = preset.truncations;
  }
  truncations = mergeTruncations(truncations, fitSlackMessage(message));
  const problems = checkSlackMessage(message);
  if (problems.length > 0) {
    throw new TemplateRenderError("slack", `not a valid Slack message: ${problems.join("; ")}`);
  }
  return { body: serializeMessage("slack", message), contentType: JSON_CONTENT_TYPE, truncations };
}

function renderDiscord(
  body: string | undefined,
  allowMentions: boolean,
  payload: unknown,
  cacheKey: string,
  workBudget: number,
): RenderedBody {
  let message: JsonRecord;
  let truncations: Truncation[] = [];
  // Mentions are the route author's to allow; preset text comes from the email, so it never may.
  let mentions = allowMentions;
  if (body !== undefined) {
    message = renderedMessage(
      "discord",
      renderTemplate("discord", "json", body, payload, cacheKey, workBudget),
    );
  } else if (isDiscordMessage(payload)) {
    message = cloneJson(payload);
  } else {
    const preset = buildDiscordPreset(summarize(payload));
    message = preset.message;
    truncations = preset.truncations;
    mentions = false;
  }
  truncations = mergeTruncations(truncations, fitDiscordMessage(message, { allowMentions: mentions }));
  const problems = checkDiscordMessage(message, { allowMentions: mentions });
  if (problems.length > 0) {
    throw new TemplateRenderError("discord", `not a valid Discord message: ${problems.join("; ")}`);
  }
  return { body: serializeMessage("discord", message), contentType: JSON_CONTENT_TYPE, truncations };
}

/** What the presets show: Hookgate's own events as operational news, every other payload as email. */
function summarize(payload: unknown): EmailSummary {
  return isOwnEventPayload(payload) ? summarizeOwnEvent(payload) : summarizeEmailEvent(payload);
}

function renderedMessage(kind: "slack" | "discord", rendered: string): JsonRecord {
  const value = parseRendered(kind, rendered);
  if (!isRecord(value)) {
    throw new TemplateRenderError(kind, "the body must render a JSON object (the message)");
  }
  return value;
}

/** Parses what a JSON template rendered, or explains where it stopped being JSON. */
function parseRendered(kind: string, rendered: string): unknown {
  try {
    return JSON.parse(rendered);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(reason);
    const at = position ? Number(position[1]) : -1;
    const near = at >= 0 ? ` near ${JSON.stringify(rendered.slice(Math.max(0, at - 30), at + 30))}` : "";
    throw new TemplateRenderError(
      kind,
      `the rendered body is not valid JSON (${reason})${near}; use {{json x}} for values outside quotes`,
    );
  }
}

function serializeMessage(kind: string, message: JsonRecord): string {
  const body = JSON.stringify(message);
  if (Buffer.byteLength(body, "utf8") > MAX_OUTPUT_BYTES) {
    throw new TemplateRenderError(kind, `the rendered output exceeds ${MAX_OUTPUT_BYTES} bytes`);
  }
  return body;
}
