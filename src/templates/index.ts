/**
 * Templates stage: turns a route's payload into the HTTP body for its target (Slack, Discord,
 * JSON or text). Pure apart from a bounded cache of compiled Handlebars templates and the render
 * thread that takes renders too costly for the main thread.
 */
export { ContainedRenderer, INLINE_WORK_BUDGET, renderContained } from "./contained-render.ts";
export { checkDiscordMessage, DISCORD_LIMITS } from "./discord-limits.ts";
export { TemplateRenderError, TemplateSyntaxError } from "./errors.ts";
export { MAX_OUTPUT_BYTES, MAX_TEMPLATE_BYTES } from "./handlebars-env.ts";
export { escapeMrkdwn } from "./mrkdwn.ts";
export { checkTemplate, renderBody } from "./render-body.ts";
export { checkSlackMessage, SLACK_LIMITS } from "./slack-limits.ts";
export {
  DEFAULT_TEXT_CONTENT_TYPE,
  type Template,
  type TemplateKind,
  TemplateSchema,
} from "./template-schema.ts";
export type { RenderedBody, Truncation } from "./types.ts";
