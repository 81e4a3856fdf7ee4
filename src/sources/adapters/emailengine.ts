import { bodySignature } from "../../shared/hmac.ts";
import { header, type IngestInput, safeEqual } from "../verify.ts";
import { isObject, makeEvent, notShape, type SourceAdapter, typeOf } from "./common.ts";

const WHAT = "an EmailEngine webhook";

/**
 * EmailEngine: one event per request, `{serviceUrl, account, date, path, specialUse, event, data,
 * eventId}`, signed with `X-EE-Wh-Signature` = base64url HMAC-SHA256(serviceSecret, raw body).
 */
export const emailengine: SourceAdapter = {
  kind: "emailengine",
  verify(source, input: IngestInput) {
    if (source.secret === null) return true;
    const given = header(input.headers, "x-ee-wh-signature");
    const ok = safeEqual(given ?? "", bodySignature(source.secret, input.raw, "base64url"));
    return ok && given !== undefined;
  },
  normalise(body, _input, ctx) {
    if (!isObject(body)) notShape(WHAT, "expected one JSON object");
    return [
      makeEvent(ctx, {
        nativeId: body.eventId,
        type: typeOf(body, "event", WHAT),
        account: body.account,
        occurredAt: body.date,
        data: body,
      }),
    ];
  },
};
