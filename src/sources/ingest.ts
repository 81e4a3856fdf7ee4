import { isUtf8 } from "node:buffer";
import { HookgateError } from "../errors.ts";
import { type HookgateEvent, isOwnType, OWN_PREFIX } from "../events/index.ts";
import { jsonDepthError } from "../shared/json-depth.ts";
import { ADAPTERS } from "./adapters/index.ts";
import type { Source } from "./source-schema.ts";
import { checkAuth, type IngestInput } from "./verify.ts";

/** The sender's signature (when the source has a secret) and its credentials (when it has auth). */
export function authenticate(source: Source, input: IngestInput, now = new Date()): boolean {
  const signed = ADAPTERS[source.kind].verify(source, input, now);
  const authed = source.auth ? checkAuth(source.auth, input.headers) : true;
  return signed && authed;
}

export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) throw new HookgateError("HG_ERR_BAD_JSON", "the body is empty");
  // RFC 8259: JSON is UTF-8; other bytes would be read with U+FFFD in their place.
  if (!isUtf8(raw)) throw new HookgateError("HG_ERR_BAD_JSON", "the body is not valid UTF-8");
  const tooDeep = jsonDepthError(raw);
  if (tooDeep) throw tooDeep;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw new HookgateError("HG_ERR_BAD_JSON", (err as Error).message);
  }
}

/**
 * One ingest request as events: authenticated on the raw bytes first (401, nothing parsed),
 * then parsed (400 HG_ERR_BAD_JSON) and normalised by the source's adapter (400 on a wrong shape).
 * Pure: storing the events is the caller's.
 */
export function eventsFromRequest(source: Source, input: IngestInput, now = new Date()): HookgateEvent[] {
  if (!authenticate(source, input, now)) {
    throw new HookgateError(
      "HG_ERR_UNAUTHORIZED",
      "Missing or invalid signature or credentials for this source",
    );
  }
  const body = parseJsonBody(input.raw);
  const events = ADAPTERS[source.kind].normalise(body, input, {
    sourceId: source.id,
    kind: source.kind,
    now,
  });
  // A sender cannot pass its events off as the gateway's own (routes for hookgate.* trust them).
  const spoofed = events.find((e) => isOwnType(e.type));
  if (spoofed) {
    throw new HookgateError(
      "HG_ERR_VALIDATION",
      `the event type ${JSON.stringify(spoofed.type)} is refused: the prefix "${OWN_PREFIX}" is reserved for Hookgate's own events`,
      [{ path: "type", message: `the prefix "${OWN_PREFIX}" is reserved for Hookgate's own events` }],
    );
  }
  return events;
}
