import { bodySignature } from "../../shared/hmac.ts";
import { header, safeEqual } from "../verify.ts";
import { batchItems, makeEvent, type SourceAdapter, typeOf } from "./common.ts";

const WHAT = "a Mailtrap webhook";

/**
 * Mailtrap: batches `{"events": [{event, timestamp, message_id, email, event_id, …}]}`, signed with
 * `X-Mailtrap-Signature` = hex HMAC-SHA256(signing secret, raw body). Mailtrap counts only 200 as
 * success. Its events name no account; `account` stays null (the recipient is in data.email).
 */
export const mailtrap: SourceAdapter = {
  kind: "mailtrap",
  verify(source, input) {
    if (source.secret === null) return true;
    const given = header(input.headers, "x-mailtrap-signature");
    const ok = safeEqual((given ?? "").toLowerCase(), bodySignature(source.secret, input.raw, "hex"));
    return ok && given !== undefined;
  },
  normalise(body, _input, ctx) {
    return batchItems(body, WHAT).map((item) =>
      makeEvent(ctx, {
        nativeId: item.event_id,
        type: typeOf(item, "event", WHAT),
        account: undefined,
        occurredAt: item.timestamp,
        data: item,
      }),
    );
  },
};
