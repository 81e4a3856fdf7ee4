import type { DeliveryLog, NewDelivery } from "../delivery-log/index.ts";
import { deliveryIdFor } from "../ids.ts";
import type { Route } from "../routing/index.ts";
import { type BatchBuffer, type BatchItem, type BufferState, batchBody } from "./batch-buffer.ts";
import { flushJobId, releaseJobId } from "./delivery-job.ts";
import type { DeliverRequest, DeliveryQueue } from "./delivery-queue.ts";
import type { FifoLanes, LaneHead } from "./fifo-lane.ts";

/*
 * Where a recorded delivery goes next, in one place for the walker, the worker and the API:
 * straight to the queue, into its route's FIFO lane (only the head is queued), or (before it is
 * a delivery at all) into its route's batch buffer with a flush scheduled.
 */

export interface BatchSettings {
  maxEvents: number;
  maxWaitMs: number;
}

/** Items cut when a flush finds the route gone or no longer batching: drained in chunks. */
const DRAIN_CHUNK = 100;

export class DeliveryScheduler {
  readonly #queue: DeliveryQueue;
  readonly #lanes: FifoLanes;
  readonly #batches: BatchBuffer;
  readonly #log: DeliveryLog;

  constructor(queue: DeliveryQueue, lanes: FifoLanes, batches: BatchBuffer, log: DeliveryLog) {
    this.#queue = queue;
    this.#lanes = lanes;
    this.#batches = batches;
    this.#log = log;
  }

  get lanes(): FifoLanes {
    return this.#lanes;
  }

  /** Deliveries just recorded as pending: FIFO ones join their lane, the rest are queued. */
  async dispatch(deliveries: readonly NewDelivery[], manualRetry = 0): Promise<void> {
    const direct: DeliverRequest[] = [];
    const ordered: { deliveryId: string; routeId: string; order: string }[] = [];
    for (const d of deliveries) {
      if (d.fifo) ordered.push({ deliveryId: d.id, routeId: d.routeId, order: d.order });
      else direct.push({ deliveryId: d.id, routeId: d.routeId, manualRetry });
    }
    const heads = await this.#lanes.push(ordered);
    // First runs go in bundles; a manual retry keeps its own id so it cannot be queued twice.
    if (manualRetry > 0) await this.#queue.enqueue([...direct, ...headJobs(heads)]);
    else await Promise.all([this.#queue.enqueueMany(direct), this.#queue.enqueue(headJobs(heads))]);
  }

  /** One attempt later (a retry, a deferral) under the job id that makes it happen once. */
  async later(deliveryId: string, routeId: string, delayMs: number, jobId: string): Promise<void> {
    await this.#queue.later(deliveryId, routeId, delayMs, jobId);
  }

  /** A finished delivery sent again by hand (retry, redrive). */
  async redispatch(
    d: { id: string; routeId: string; order?: string | undefined },
    manualRetry: number,
    fifo: boolean,
  ) {
    if (!fifo) return this.#queue.enqueue([{ deliveryId: d.id, routeId: d.routeId, manualRetry }]);
    const heads = await this.#lanes.repush({ deliveryId: d.id, routeId: d.routeId, order: d.order ?? "" });
    await this.#queue.enqueue(headJobs(heads));
  }

  /**
   * Sends a route's held deliveries now that it is on, oldest event first (a FIFO route's
   * through its lane). Answers how many.
   */
  async releaseHeld(route: Pick<Route, "id" | "ordering">, now = Date.now()): Promise<number> {
    return this.#log.releaseHeld(route.id, async (chunk) => {
      const ordered = chunk.map((d) => ({ deliveryId: d.id, routeId: route.id, order: d.order }));
      if (route.ordering !== "fifo") return this.#queue.enqueueMany(ordered);
      // A lane's head may have had a job before it was held: the new one needs an id of its own.
      for (const head of await this.#lanes.push(ordered)) {
        await this.#queue.later(head.deliveryId, route.id, 0, releaseJobId(head.deliveryId, now));
      }
    });
  }

  /**
   * After a FIFO delivery finished for good: the next one of its lane goes now, even if it was
   * deferred while waiting its turn (not if it is waiting out a retry backoff).
   */
  async advance(routeId: string, member: string): Promise<void> {
    const head = await this.#lanes.advance(routeId, member);
    if (!head) return;
    const job = { deliveryId: head.deliveryId, routeId, manualRetry: head.manualRetry };
    if (head.status === "pending") await this.#queue.enqueueNow(job);
    else await this.#queue.enqueue([job]);
  }

  /** Restarts lanes whose head lost its job (a crash between finishing one and queueing the next). */
  async sweepLanes(): Promise<void> {
    for (const routeId of await this.#lanes.routesWithLanes()) {
      const head = await this.#lanes.advance(routeId, "");
      if (head)
        await this.#queue.enqueue([{ deliveryId: head.deliveryId, routeId, manualRetry: head.manualRetry }]);
    }
  }

  /** Rendered bodies of batching routes: buffered, with a flush due at the latest by maxWaitMs. */
  async buffer(items: readonly { item: BatchItem; batch: BatchSettings }[], now = Date.now()): Promise<void> {
    if (items.length === 0) return;
    const states = await this.#batches.add(items.map((i) => i.item));
    const flushes = new Map<string, Parameters<DeliveryQueue["scheduleFlush"]>[0][number]>();
    states.forEach((state, i) => {
      const entry = items[i];
      if (!entry) return;
      const flush = flushFor(entry.item.routeId, state, entry.batch, now);
      if (flush) flushes.set(flushJobId(flush.routeId, flush.oldestOrder, flush.full), flush);
    });
    await this.#queue.scheduleFlush([...flushes.values()]);
  }

  /**
   * Cuts up to maxEvents buffered bodies into one delivery and schedules the next flush for what
   * is left. Safe to repeat: the cut is remembered under the flush's id.
   */
  async flush(routeId: string, flushId: string, route: Route | null, now = Date.now()): Promise<void> {
    const batch = route?.batch ?? null;
    const items = await this.#batches.cut(routeId, flushId, batch?.maxEvents ?? DRAIN_CHUNK);
    if (items.length > 0) {
      const first = items[0] as BatchItem;
      const delivery: NewDelivery = {
        id: deliveryIdFor(`batch.${flushId}`, routeId),
        routeId,
        routeVersion: Math.max(...items.map((i) => i.routeVersion)),
        eventId: first.eventId,
        eventType: "batch",
        error: route ? null : { code: "HG_ERR_ROUTE_DELETED", message: `route ${routeId} was deleted` },
        contentType: "application/json",
        body: batchBody(items),
        order: first.order,
        fifo: route?.ordering === "fifo",
        eventIds: items.map((i) => i.eventId),
      };
      const [created] = await this.#log.create([delivery], new Date(now));
      if (created === "queue") await this.dispatch([delivery]);
    }
    const rest = await this.#batches.rest(routeId);
    const next = flushFor(routeId, rest, batch ?? { maxEvents: DRAIN_CHUNK, maxWaitMs: 0 }, now);
    if (next) await this.#queue.scheduleFlush([next]);
  }
}

/** Each lane's head once, as a job. */
function headJobs(heads: readonly LaneHead[]): DeliverRequest[] {
  const jobs = new Map<string, DeliverRequest>();
  for (const h of heads)
    jobs.set(h.deliveryId, { deliveryId: h.deliveryId, routeId: h.routeId, manualRetry: h.manualRetry });
  return [...jobs.values()];
}

function flushFor(routeId: string, state: BufferState, batch: BatchSettings, now: number) {
  if (!state.oldest || state.count === 0) return null;
  const full = state.count >= batch.maxEvents;
  return {
    routeId,
    oldestOrder: state.oldest.order,
    delayMs: full ? 0 : state.oldest.at + batch.maxWaitMs - now,
    full,
  };
}
