import { newId } from "../ids.ts";
import type { EventIn, HookgateEvent } from "./event-schema.ts";

export function normalizeEvent(input: EventIn, now = new Date()): HookgateEvent {
  const receivedAt = now.toISOString();
  return {
    id: input.id ?? newId("evt", now.getTime()),
    type: input.type,
    source: input.source ?? null,
    account: input.account ?? null,
    occurredAt: input.occurredAt ? new Date(input.occurredAt).toISOString() : receivedAt,
    receivedAt,
    data: input.data ?? null,
  };
}
