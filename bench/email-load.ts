import { readFileSync } from "node:fs";

/*
 * The event the peer and Redis-cost benchmarks send: EmailEngine's `messageNew` webhook body, the
 * sample the product ships (samples/sources/emailengine), padded to 2 KB, with its own event id.
 */
const SAMPLE = JSON.parse(
  readFileSync(new URL("../samples/sources/emailengine/messageNew.json", import.meta.url), "utf8"),
) as { data: { text?: { plain?: string } } & Record<string, unknown> } & Record<string, unknown>;

export function emailEngineBody(eventId: string): string {
  const body = { ...SAMPLE, eventId, data: { ...SAMPLE.data, text: { ...SAMPLE.data.text, plain: "" } } };
  body.data.text.plain = "x".repeat(Math.max(0, 2048 - JSON.stringify(body).length));
  return JSON.stringify(body);
}
