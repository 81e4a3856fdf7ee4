/**
 * The route's `template` field. Absent (or null) means "send the payload as JSON". Bodies are
 * Handlebars; whether they compile is checked by checkTemplate when a route is saved, so that
 * the API can answer with the line and column.
 */
import { z } from "zod";
import { MAX_TEMPLATE_BYTES } from "./handlebars-env.ts";

export const DEFAULT_TEXT_CONTENT_TYPE = "text/plain; charset=utf-8";

const TemplateBodySchema = z
  .string()
  .min(1)
  .refine((body) => Buffer.byteLength(body, "utf8") <= MAX_TEMPLATE_BYTES, {
    message: `must be at most ${MAX_TEMPLATE_BYTES} bytes`,
  })
  .describe(
    "Handlebars source. In JSON bodies {{x}} is escaped as JSON string content; {{json x}} writes JSON.",
  );

/** A media type with optional parameters; printable ASCII only, so it cannot smuggle a header line. */
const ContentTypeSchema = z
  .string()
  .max(200)
  .regex(
    /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(?:\s*;\s*[\x20-\x7e]*)?$/,
    "must be a media type such as text/plain; charset=utf-8",
  );

export const SlackTemplateSchema = z.strictObject({
  kind: z.literal("slack"),
  /** A Handlebars JSON template for the Slack message; without it, the built-in preset. */
  body: TemplateBodySchema.optional(),
});

export const DiscordTemplateSchema = z.strictObject({
  kind: z.literal("discord"),
  body: TemplateBodySchema.optional(),
  /** Let the message's own `allowed_mentions` stand; otherwise `{"parse": []}` is forced. */
  allowMentions: z.boolean().optional(),
});

export const JsonTemplateSchema = z.strictObject({
  kind: z.literal("json"),
  body: TemplateBodySchema,
});

export const TextTemplateSchema = z.strictObject({
  kind: z.literal("text"),
  body: TemplateBodySchema,
  contentType: ContentTypeSchema.default(DEFAULT_TEXT_CONTENT_TYPE),
});

export const TemplateSchema = z
  .discriminatedUnion("kind", [
    SlackTemplateSchema,
    DiscordTemplateSchema,
    JsonTemplateSchema,
    TextTemplateSchema,
  ])
  .describe(
    "How the payload becomes the HTTP body: slack, discord, json or text. Absent: the payload as JSON.",
  );

/**
 * A template as written: `contentType` may be left out (it defaults when parsed and when
 * rendered), so parsed values and hand-built ones are both Templates.
 */
export type Template = z.input<typeof TemplateSchema>;
export type TemplateKind = Template["kind"];

// The parsed value is always a Template too.
const _parsedIsTemplate: z.ZodType<Template> = TemplateSchema;
void _parsedIsTemplate;
