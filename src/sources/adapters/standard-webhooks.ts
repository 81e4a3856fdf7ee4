import { standardWebhooksSignature } from "../../shared/hmac.ts";
import { header, safeEqual } from "../verify.ts";
import { isObject, makeEvent, type SourceAdapter, str } from "./common.ts";

/** Receivers reject timestamps more than 5 minutes off (replay protection). */
export const TIMESTAMP_TOLERANCE_S = 5 * 60;

/**
 * Any sender that signs with Standard Webhooks: `webhook-id`, `webhook-timestamp` (unix seconds,
 * within ±5 min), `webhook-signature` = space-separated `v1,<base64 HMAC-SHA256>` of
 * `${id}.${timestamp}.${body}`. The event id is `webhook-id`; the type is the body's `type`.
 */
export const standardWebhooks: SourceAdapter = {
  kind: "standard-webhooks",
  verify(source, input, now) {
    if (source.secret === null) return false;
    const id = header(input.headers, "webhook-id");
    const timestamp = header(input.headers, "webhook-timestamp");
    const signatures = header(input.headers, "webhook-signature");
    if (!id || !timestamp || !signatures || !/^\d{1,12}$/.test(timestamp)) return false;
    const ts = Number(timestamp);
    if (Math.abs(now.getTime() / 1000 - ts) > TIMESTAMP_TOLERANCE_S) return false;
    const expected = standardWebhooksSignature([source.secret], id, ts, input.raw);
    let ok = false;
    for (const given of signatures.split(" ")) {
      // Every candidate is compared (no early exit), each in constant time.
      if (given.startsWith("v1,") && safeEqual(given, expected)) ok = true;
    }
    return ok;
  },
  normalise(body, input, ctx) {
    const obj = isObject(body) ? body : {};
    const data = isObject(obj.data) ? obj.data : {};
    return [
      makeEvent(ctx, {
        nativeId: header(input.headers, "webhook-id"),
        type: str(obj.type) ?? "webhook",
        account: obj.account ?? data.account,
        occurredAt: obj.timestamp ?? header(input.headers, "webhook-timestamp"),
        data: body,
      }),
    ];
  },
};
