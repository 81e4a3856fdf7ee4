/**
 * Slack message limits: checking a message against them and fitting a message into them.
 * Fitting only shortens; it never escapes, because a message built by a map or a body template
 * already says what its author meant (escaping it again would show `&amp;amp;`).
 * Limits: https://api.slack.com/reference/block-kit/blocks and the 40,000-character message cap.
 */
import { isRecord, type JsonRecord, own } from "../shared/json-value.ts";
import { cutMrkdwn } from "./mrkdwn.ts";
import { TruncationLog } from "./truncation-log.ts";
import type { Truncation } from "./types.ts";

export const SLACK_LIMITS = {
  /** Blocks in one message. */
  blocks: 50,
  /** `header` block text (plain_text only). */
  headerText: 150,
  /** `section` block text. */
  sectionText: 3000,
  /** Fields in one `section`. */
  sectionFields: 10,
  /** Each section field's text. */
  fieldText: 2000,
  /** Elements in one `context` block. */
  contextElements: 10,
  /** A text object inside a `context` block (the general text-object cap). */
  contextText: 3000,
  /** Top-level `text`; Slack truncates longer messages, so Hookgate cuts first and says so. */
  messageText: 40_000,
} as const;

/** Used when a message has neither `text` nor any block text to derive it from. */
export const SLACK_FALLBACK_TEXT = "Hookgate notification";

/** True when a payload already is a Slack message: a string `text` and/or a `blocks` array. */
export function isSlackMessage(payload: unknown): payload is JsonRecord {
  return (
    isRecord(payload) && (typeof own(payload, "text") === "string" || Array.isArray(own(payload, "blocks")))
  );
}

/**
 * Fits a message into SLACK_LIMITS in place (pass a copy): cuts texts with "…", drops blocks,
 * fields and context elements past their caps, and fills an empty top-level `text` from the blocks.
 */
export function fitSlackMessage(message: JsonRecord): Truncation[] {
  const log = new TruncationLog();
  const blocks = own(message, "blocks");
  if (Array.isArray(blocks)) {
    if (blocks.length > SLACK_LIMITS.blocks) {
      log.record("blocks", SLACK_LIMITS.blocks, blocks.length);
      blocks.length = SLACK_LIMITS.blocks;
    }
    blocks.forEach((block, i) => {
      if (isRecord(block)) fitBlock(block, `blocks[${i}]`, log);
    });
  }
  const text = own(message, "text");
  if (typeof text === "string" && text.trim() !== "") {
    message.text = log.cut("text", SLACK_LIMITS.messageText, text, cutMrkdwn(text, SLACK_LIMITS.messageText));
  } else {
    // Slack needs `text` for notifications and screen readers; it is not reported as a cut.
    message.text = cutMrkdwn(deriveFallbackText(message), SLACK_LIMITS.sectionText);
  }
  return log.list();
}

function fitBlock(block: JsonRecord, path: string, log: TruncationLog): void {
  switch (own(block, "type")) {
    case "header":
      fitTextObject(own(block, "text"), `${path}.text`, SLACK_LIMITS.headerText, log);
      break;
    case "section": {
      fitTextObject(own(block, "text"), `${path}.text`, SLACK_LIMITS.sectionText, log);
      const fields = own(block, "fields");
      if (Array.isArray(fields)) {
        if (fields.length > SLACK_LIMITS.sectionFields) {
          log.record(`${path}.fields`, SLACK_LIMITS.sectionFields, fields.length);
          fields.length = SLACK_LIMITS.sectionFields;
        }
        fields.forEach((field, j) => {
          fitTextObject(field, `${path}.fields[${j}]`, SLACK_LIMITS.fieldText, log);
        });
      }
      break;
    }
    case "context": {
      const elements = own(block, "elements");
      if (Array.isArray(elements)) {
        if (elements.length > SLACK_LIMITS.contextElements) {
          log.record(`${path}.elements`, SLACK_LIMITS.contextElements, elements.length);
          elements.length = SLACK_LIMITS.contextElements;
        }
        elements.forEach((element, j) => {
          fitTextObject(element, `${path}.elements[${j}]`, SLACK_LIMITS.contextText, log);
        });
      }
      break;
    }
    default:
      // Other block types (divider, image, actions, rich_text…) pass through untouched.
      break;
  }
}

function fitTextObject(object: unknown, path: string, max: number, log: TruncationLog): void {
  if (!isRecord(object)) return;
  const text = own(object, "text");
  if (typeof text !== "string") return;
  object.text = log.cut(`${path}.text`, max, text, cutMrkdwn(text, max));
}

/** The first texts a reader would see: header, then section text and fields, then attachment fallbacks. */
function deriveFallbackText(message: JsonRecord): string {
  const parts: string[] = [];
  const blocks = own(message, "blocks");
  for (const block of Array.isArray(blocks) ? blocks : []) {
    if (!isRecord(block)) continue;
    const texts = [own(block, "text"), ...arrayOf(own(block, "fields")), ...arrayOf(own(block, "elements"))];
    for (const object of texts) {
      const text = isRecord(object) ? own(object, "text") : undefined;
      if (typeof text === "string" && text.trim() !== "") parts.push(text.trim());
    }
    if (parts.length >= 3) break;
  }
  for (const attachment of arrayOf(own(message, "attachments"))) {
    if (parts.length > 0 || !isRecord(attachment)) break;
    for (const key of ["fallback", "text", "pretext", "title"]) {
      const text = own(attachment, key);
      if (typeof text === "string" && text.trim() !== "") {
        parts.push(text.trim());
        break;
      }
    }
  }
  return parts.length > 0 ? parts.slice(0, 3).join("\n") : SLACK_FALLBACK_TEXT;
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * Lists every way `message` breaks SLACK_LIMITS or the basic shape Slack accepts; empty when
 * valid. Unknown block types are not inspected.
 */
export function checkSlackMessage(message: unknown): string[] {
  if (!isRecord(message)) return ["message: must be a JSON object"];
  const problems: string[] = [];
  const text = own(message, "text");
  if (typeof text !== "string" || text.trim() === "") {
    problems.push("text: a non-empty top-level text is required (notification fallback)");
  } else {
    tooLong(problems, "text", text, SLACK_LIMITS.messageText);
  }
  const blocks = own(message, "blocks");
  if (blocks === undefined) return problems;
  if (!Array.isArray(blocks)) return [...problems, "blocks: must be an array"];
  if (blocks.length > SLACK_LIMITS.blocks) {
    problems.push(`blocks: ${blocks.length} blocks, at most ${SLACK_LIMITS.blocks}`);
  }
  blocks.forEach((block, i) => {
    checkBlock(problems, block, `blocks[${i}]`);
  });
  return problems;
}

function checkBlock(problems: string[], block: unknown, path: string): void {
  if (!isRecord(block) || typeof own(block, "type") !== "string") {
    problems.push(`${path}: must be an object with a string type`);
    return;
  }
  switch (own(block, "type")) {
    case "header":
      checkTextObject(problems, own(block, "text"), `${path}.text`, SLACK_LIMITS.headerText, "plain_text");
      break;
    case "section": {
      const text = own(block, "text");
      const fields = own(block, "fields");
      if (text === undefined && fields === undefined)
        problems.push(`${path}: a section needs text or fields`);
      if (text !== undefined) checkTextObject(problems, text, `${path}.text`, SLACK_LIMITS.sectionText);
      if (fields === undefined) break;
      if (!Array.isArray(fields) || fields.length === 0) {
        problems.push(`${path}.fields: must be a non-empty array`);
        break;
      }
      if (fields.length > SLACK_LIMITS.sectionFields) {
        problems.push(`${path}.fields: ${fields.length} fields, at most ${SLACK_LIMITS.sectionFields}`);
      }
      fields.forEach((field, j) => {
        checkTextObject(problems, field, `${path}.fields[${j}]`, SLACK_LIMITS.fieldText);
      });
      break;
    }
    case "context": {
      const elements = own(block, "elements");
      if (!Array.isArray(elements) || elements.length === 0) {
        problems.push(`${path}.elements: must be a non-empty array`);
        break;
      }
      if (elements.length > SLACK_LIMITS.contextElements) {
        problems.push(
          `${path}.elements: ${elements.length} elements, at most ${SLACK_LIMITS.contextElements}`,
        );
      }
      elements.forEach((element, j) => {
        const type = isRecord(element) ? own(element, "type") : undefined;
        if (type === "mrkdwn" || type === "plain_text") {
          checkTextObject(problems, element, `${path}.elements[${j}]`, SLACK_LIMITS.contextText);
        }
      });
      break;
    }
    default:
      break;
  }
}

function checkTextObject(
  problems: string[],
  object: unknown,
  path: string,
  max: number,
  onlyType?: "plain_text",
): void {
  if (!isRecord(object)) {
    problems.push(`${path}: must be a text object`);
    return;
  }
  const type = own(object, "type");
  if (onlyType ? type !== onlyType : type !== "mrkdwn" && type !== "plain_text") {
    problems.push(`${path}.type: must be ${onlyType ?? '"mrkdwn" or "plain_text"'}`);
  }
  const text = own(object, "text");
  if (typeof text !== "string" || text.length === 0) {
    problems.push(`${path}.text: must be a non-empty string`);
    return;
  }
  tooLong(problems, `${path}.text`, text, max);
}

function tooLong(problems: string[], path: string, text: string, max: number): void {
  if (text.length > max) problems.push(`${path}: ${text.length} characters, at most ${max}`);
}
