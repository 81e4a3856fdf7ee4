import { header } from "../verify.ts";
import { isObject, makeEvent, notShape, type SourceAdapter, str } from "./common.ts";

const WHAT = "a MailSlurp webhook";

/**
 * MailSlurp: one event per request with `eventName` (also in the `x-event` header) and the
 * idempotency key `messageId` (also `x-message-id`). Its `x-signature` can only be checked by
 * calling MailSlurp's API, so the source is authenticated by basic auth or a static header.
 */
export const mailslurp: SourceAdapter = {
  kind: "mailslurp",
  verify: () => true,
  normalise(body, input, ctx) {
    if (!isObject(body)) notShape(WHAT, "expected one JSON object");
    const type = str(body.eventName) ?? header(input.headers, "x-event");
    if (!type) notShape(WHAT, "`eventName` (the event type) is missing");
    return [
      makeEvent(ctx, {
        nativeId: body.messageId ?? header(input.headers, "x-message-id"),
        type,
        account: body.inboxId ?? body.phoneNumber ?? body.userId,
        occurredAt: body.createdAt,
        data: body,
      }),
    ];
  },
};
