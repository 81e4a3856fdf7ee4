import type { EventIn, HookgateEvent } from "../events/index.ts";
import { newId } from "../ids.ts";
import { emailViewOf } from "./email-view/index.ts";

/**
 * An event posted to the API. Its data is in no known sender's envelope, so its email view (when
 * it has email fields) is read as generic data: `data.subject`, `data.from`, …
 */
export function normalizeEvent(input: EventIn, now = new Date()): HookgateEvent {
  const receivedAt = now.toISOString();
  const event: HookgateEvent = {
    id: input.id ?? newId("evt", now.getTime()),
    type: input.type,
    source: input.source ?? null,
    // Posted to the API by a client, not through a source: routes may ask for these by "api".
    sourceKind: "api",
    account: input.account ?? null,
    occurredAt: input.occurredAt ? new Date(input.occurredAt).toISOString() : receivedAt,
    receivedAt,
    data: input.data ?? null,
  };
  const email = emailViewOf(null, event.data, event.type, event.account);
  if (email) event.email = email;
  return event;
}
