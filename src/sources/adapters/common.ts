import { createHash } from "node:crypto";
import { HookgateError } from "../../errors.ts";
import type { HookgateEvent } from "../../events/index.ts";
import { emailViewOf } from "../email-view/index.ts";
import type { Source, SourceKind } from "../source-schema.ts";
import type { IngestInput } from "../verify.ts";

export const MAX_EVENTS_PER_INGEST = 1000;

export interface NormaliseContext {
  sourceId: string;
  kind: SourceKind;
  now: Date;
}

/** One system's webhooks: how a request is verified and how its body becomes events. */
export interface SourceAdapter {
  kind: SourceKind;
  /**
   * The sender's own signature on the raw body, checked in constant time. True when the source
   * has no secret (its `auth`, checked separately, is then what authenticates the request).
   */
  verify(source: Source, input: IngestInput, now: Date): boolean;
  /** The parsed body as events; throws HG_ERR_VALIDATION (400) when it is not this system's shape. */
  normalise(body: unknown, input: IngestInput, ctx: NormaliseContext): HookgateEvent[];
}

export type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function notShape(what: string, message: string): never {
  throw new HookgateError("HG_ERR_VALIDATION", `not ${what}: ${message}`);
}

export function str(value: unknown): string | undefined {
  if (typeof value === "string" && value.length > 0) return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** ISO 8601 from an ISO string, unix seconds or unix milliseconds; undefined when unreadable. */
export function toIso(value: unknown): string | undefined {
  let ms: number | undefined;
  if (typeof value === "number" && Number.isFinite(value)) ms = value < 1e11 ? value * 1000 : value;
  else if (typeof value === "string" && value.length > 0) {
    ms = /^\d+(\.\d+)?$/.test(value) ? toMs(Number(value)) : Date.parse(value);
  }
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

const toMs = (n: number) => (n < 1e11 ? n * 1000 : n);

const hash = (value: unknown) =>
  `h_${createHash("sha256")
    .update(JSON.stringify(value) ?? "")
    .digest("hex")
    .slice(0, 40)}`;

/**
 * The event id: the sender's own id (so a redelivery is recognised as a duplicate), or a hash of
 * the event when the sender gives none, prefixed with the source id so two sources cannot collide.
 */
export function eventIdFor(sourceId: string, nativeId: unknown, item: unknown): string {
  const native = str(nativeId);
  const safe = native && /^[\x21-\x7e]{1,200}$/.test(native) ? native : native ? hash(native) : hash(item);
  return `${sourceId}:${safe}`;
}

export function makeEvent(
  ctx: NormaliseContext,
  fields: { nativeId: unknown; type: string; account: unknown; occurredAt: unknown; data: unknown },
): HookgateEvent {
  const receivedAt = ctx.now.toISOString();
  const type = fields.type.slice(0, 200);
  const account = str(fields.account)?.slice(0, 500) ?? null;
  const event: HookgateEvent = {
    id: eventIdFor(ctx.sourceId, fields.nativeId, fields.data),
    type,
    source: ctx.sourceId,
    sourceKind: ctx.kind,
    account,
    occurredAt: toIso(fields.occurredAt) ?? receivedAt,
    receivedAt,
    data: fields.data,
  };
  const email = emailViewOf(ctx.kind, fields.data, type, account);
  if (email) event.email = email;
  return event;
}

/** The items of a batch body `{"events": [...]}`; a 400 when it is not one or is too long. */
export function batchItems(body: unknown, what: string): Obj[] {
  if (!isObject(body) || !Array.isArray(body.events)) notShape(what, 'expected {"events": [...]}');
  const items = body.events;
  if (items.length > MAX_EVENTS_PER_INGEST) notShape(what, `more than ${MAX_EVENTS_PER_INGEST} events`);
  return items.map((item, i) => (isObject(item) ? item : notShape(what, `events.${i} is not an object`)));
}

export function typeOf(item: Obj, field: string, what: string): string {
  const type = str(item[field]);
  if (!type) notShape(what, `\`${field}\` (the event type) is missing`);
  return type;
}
