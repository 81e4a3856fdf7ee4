import type { NewDelivery } from "../delivery-log/index.ts";
import type { HookgateEvent } from "../events/index.ts";
import { deliveryIdFor } from "../ids.ts";
import { type BatchItem, type BatchSettings, batchBody, streamOrder } from "../queue/index.ts";
import type { RouteWalk } from "./walk-event.ts";

export interface WalkOutcome {
  /** The stream entry to acknowledge with this commit; null: a part of a walk still going on. */
  streamId: string | null;
  deliveries: NewDelivery[];
  /** Bodies for routes that batch: buffered, sent later as one delivery. */
  batched: { item: BatchItem; batch: BatchSettings }[];
  /** What first attempts made from the walk left to do once their records are written. */
  after?: DirectAfter[];
  /** Recorded as pending but not queued: their first attempt is still in flight from the walk. */
  inFlight?: boolean;
}

/** What a first attempt made from the walk decided, to carry out once its record exists. */
export interface DirectAfter {
  deliveryId: string;
  routeId: string;
  /** A retry is due then (ms from now). */
  retryDelayMs: number | null;
  disableReason: string | null;
}

/** What one walk leaves behind: deliveries (failed ones included) and bodies for batches. */
export function outcomeOf(
  streamId: string,
  event: HookgateEvent,
  walks: readonly RouteWalk[],
  now = Date.now(),
  eventJson = JSON.stringify(event),
) {
  const out: WalkOutcome = { streamId, deliveries: [], batched: [] };
  const order = streamOrder(streamId);
  for (const w of walks) {
    if (!w.fired && !w.error) continue;
    const route = w.route.route;
    const id = deliveryIdFor(event.id, route.id);
    if (route.batch && !w.error && w.rendered && !w.held) {
      out.batched.push({
        item: {
          routeId: route.id,
          itemId: id,
          order,
          eventId: event.id,
          eventType: event.type,
          routeVersion: route.version,
          body: w.rendered.body,
          at: now,
        },
        batch: route.batch,
      });
      continue;
    }
    out.deliveries.push({
      id,
      routeId: route.id,
      routeVersion: route.version,
      eventId: event.id,
      eventType: event.type,
      error: w.error,
      contentType: w.rendered?.contentType ?? null,
      // A held body of a batching route goes out later as a batch of its own.
      body: w.rendered ? (route.batch ? batchBody([w.rendered]) : w.rendered.body) : null,
      order,
      fifo: route.ordering === "fifo",
      ...(w.held ? { held: true } : {}),
      ...(w.rendered ? {} : { event: eventJson }),
    });
  }
  return out;
}
