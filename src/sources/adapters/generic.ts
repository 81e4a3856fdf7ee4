import { EventInSchema } from "../../events/index.ts";
import { header } from "../verify.ts";
import { isObject, MAX_EVENTS_PER_INGEST, makeEvent, notShape, type SourceAdapter, str } from "./common.ts";

const WHAT = "a generic webhook";

/**
 * Anything that can POST JSON: one object, an array, or `{"events": [...]}`. An item in Hookgate's
 * own event shape (`{type, data, id?, account?, occurredAt?}`) is taken field by field; any other
 * object becomes the event's data, with the type from `type`, `event`, `eventName` or
 * `event_type` ("webhook" when none) and the id from `id`, `eventId`, `event_id`, or for a single
 * event the `idempotency-key`, `webhook-id` or `x-message-id` header; a hash of the item otherwise.
 */
export const generic: SourceAdapter = {
  kind: "generic",
  verify: () => true,
  normalise(body, input, ctx) {
    const items: unknown[] = Array.isArray(body)
      ? body
      : isObject(body) && Array.isArray(body.events)
        ? body.events
        : [body];
    if (items.length === 0) notShape(WHAT, "no events");
    if (items.length > MAX_EVENTS_PER_INGEST) notShape(WHAT, `more than ${MAX_EVENTS_PER_INGEST} events`);
    const headerId =
      items.length === 1
        ? (header(input.headers, "idempotency-key") ??
          header(input.headers, "webhook-id") ??
          header(input.headers, "x-message-id"))
        : undefined;
    return items.map((item) => {
      const own = EventInSchema.safeParse(item);
      if (own.success && own.data.data !== undefined) {
        const e = own.data;
        return makeEvent(ctx, {
          nativeId: e.id ?? headerId,
          type: e.type,
          account: e.account,
          occurredAt: e.occurredAt,
          data: e.data,
        });
      }
      const obj = isObject(item) ? item : {};
      return makeEvent(ctx, {
        nativeId: obj.id ?? obj.eventId ?? obj.event_id ?? headerId,
        type: str(obj.type) ?? str(obj.event) ?? str(obj.eventName) ?? str(obj.event_type) ?? "webhook",
        account: obj.account,
        occurredAt: obj.occurredAt ?? obj.timestamp ?? obj.createdAt ?? obj.date,
        data: item,
      });
    });
  },
};
