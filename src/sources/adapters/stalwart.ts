import { bodySignature } from "../../shared/hmac.ts";
import { header, safeEqual } from "../verify.ts";
import { batchItems, isObject, makeEvent, type SourceAdapter, typeOf } from "./common.ts";

const WHAT = "a Stalwart webhook";

/**
 * Stalwart: batches `{"events": [{id, createdAt, type, data}]}`, signed with `X-Signature` =
 * standard base64 HMAC-SHA256(signature-key, raw body); basic auth (auth.username/secret) as well
 * or instead.
 */
export const stalwart: SourceAdapter = {
  kind: "stalwart",
  verify(source, input) {
    if (source.secret === null) return true;
    const given = header(input.headers, "x-signature");
    const ok = safeEqual(given ?? "", bodySignature(source.secret, input.raw, "base64"));
    return ok && given !== undefined;
  },
  normalise(body, _input, ctx) {
    return batchItems(body, WHAT).map((item) => {
      const data = isObject(item.data) ? item.data : {};
      return makeEvent(ctx, {
        nativeId: item.id,
        type: typeOf(item, "type", WHAT),
        account: data.accountName ?? data.account ?? data.login ?? data.accountId,
        occurredAt: item.createdAt,
        data: item,
      });
    });
  },
};
