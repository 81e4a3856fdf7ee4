import { isObject, makeEvent, notShape, type SourceAdapter, typeOf } from "./common.ts";

const WHAT = "a Mailpilot webhook";

/**
 * Mailpilot: one event per request, `{event, timestamp, account, …}`, no signature (custom
 * headers only, so the source is authenticated by a header token or basic auth) and no event id:
 * the id is a hash of the event, so the same event posted twice is recognised.
 */
export const mailpilot: SourceAdapter = {
  kind: "mailpilot",
  verify: () => true,
  normalise(body, _input, ctx) {
    if (!isObject(body)) notShape(WHAT, "expected one JSON object");
    return [
      makeEvent(ctx, {
        nativeId: undefined,
        type: typeOf(body, "event", WHAT),
        account: body.account,
        occurredAt: body.timestamp,
        data: body,
      }),
    ];
  },
};
