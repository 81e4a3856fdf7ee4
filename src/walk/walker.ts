import { hostname } from "node:os";
import type { DeliveryLog, NewDelivery } from "../delivery-log/index.ts";
import type { HookgateEvent } from "../events/index.ts";
import { deliveryIdFor } from "../ids.ts";
import { type BatchItem, type BatchSettings, type DeliveryScheduler, streamOrder } from "../queue/index.ts";
import type { RouteTable } from "../routing/index.ts";
import type { Sandbox } from "../sandbox/index.ts";
import { Batcher } from "../shared/batcher.ts";
import type { Redis } from "../shared/redis.ts";
import { type RedisKeys, WALK_GROUP } from "../shared/redis-keys.ts";
import { type RouteWalk, walkEvent } from "./walk-event.ts";

/*
 * Reads accepted events from the stream (consumer group, so several workers share the work),
 * walks each, records and enqueues its deliveries, and only then acknowledges and deletes the
 * entry. A worker killed mid-walk leaves its entries pending; any live walker claims them after
 * `lockMs` and walks them again. Delivery ids derive from (event, route), so a second walk
 * re-finds the same deliveries instead of sending twice.
 */

export interface WalkerOptions {
  redis: Redis;
  /** A connection of its own: XREADGROUP BLOCK holds it. */
  blocking: Redis;
  keys: RedisKeys;
  routes: RouteTable;
  sandbox: Sandbox;
  log: DeliveryLog;
  scheduler: DeliveryScheduler;
  concurrency: number;
  lockMs: number;
  onError?: (err: unknown) => void;
  /** Told about every walk and every delivery queued (the gateway's metrics). */
  observer?: WalkObserver;
}

/** What the walker reports as it goes; the dry-run walks too but reports nothing. */
export interface WalkObserver {
  walked(walks: readonly RouteWalk[], durationMs: number): void;
  deliveriesQueued(routeIds: readonly string[]): void;
}

type StreamEntry = [id: string, fields: string[]];

export interface WalkOutcome {
  streamId: string;
  deliveries: NewDelivery[];
  /** Bodies for routes that batch: buffered, sent later as one delivery. */
  batched: { item: BatchItem; batch: BatchSettings }[];
}

/** What one walk leaves behind: deliveries (failed ones included) and bodies for batches. */
export function outcomeOf(
  streamId: string,
  event: HookgateEvent,
  walks: readonly RouteWalk[],
  now = Date.now(),
) {
  const out: WalkOutcome = { streamId, deliveries: [], batched: [] };
  const order = streamOrder(streamId);
  for (const w of walks) {
    if (!w.fired && !w.error) continue;
    const route = w.route.route;
    const id = deliveryIdFor(event.id, route.id);
    if (route.batch && !w.error && w.rendered) {
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
      body: w.rendered?.body ?? null,
      order,
      fifo: route.ordering === "fifo",
    });
  }
  return out;
}

export class Walker {
  readonly #o: WalkerOptions;
  readonly #consumer = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  #running = false;
  #loop: Promise<void> | null = null;
  #lastClaim = 0;
  /** Walks that finished in the same tick are recorded, queued and acknowledged together. */
  readonly #commit: Batcher<WalkOutcome>;

  constructor(options: WalkerOptions) {
    this.#o = options;
    this.#commit = new Batcher((items) => this.#commitWalks(items));
  }

  async start(): Promise<void> {
    const { redis, keys } = this.#o;
    try {
      await redis.xgroup("CREATE", keys.events, WALK_GROUP, "0", "MKSTREAM");
    } catch (err) {
      if (!String(err).includes("BUSYGROUP")) throw err;
    }
    this.#running = true;
    this.#loop = this.#run();
  }

  isRunning(): boolean {
    return this.#running;
  }

  /** Finishes the walks in hand; what was not read stays in the stream for the next walker. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#o.blocking.disconnect();
    await this.#loop;
  }

  // Up to `concurrency` walks run at once and new entries are read as soon as a lane frees,
  // so one slow walk (a function running to its deadline) does not hold up the ones behind it.
  async #run(): Promise<void> {
    const inflight = new Set<Promise<void>>();
    while (this.#running) {
      try {
        if (inflight.size >= this.#o.concurrency) {
          await Promise.race(inflight);
          continue;
        }
        const entries = await this.#next(this.#o.concurrency - inflight.size);
        if (entries.length === 0) continue;
        const routes = await this.#o.routes.current();
        for (const entry of entries) {
          const walk: Promise<void> = this.#walkOne(entry, routes)
            .catch((err) => this.#o.onError?.(err))
            .finally(() => inflight.delete(walk));
          inflight.add(walk);
        }
      } catch (err) {
        if (!this.#running) break;
        this.#o.onError?.(err);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await Promise.all(inflight);
  }

  async #next(count: number): Promise<StreamEntry[]> {
    const { redis, blocking, keys, lockMs } = this.#o;
    const now = Date.now();
    if (now - this.#lastClaim >= lockMs / 2) {
      this.#lastClaim = now;
      const [, claimed] = (await redis.xautoclaim(
        keys.events,
        WALK_GROUP,
        this.#consumer,
        lockMs,
        "0-0",
        "COUNT",
        count,
      )) as [string, StreamEntry[]];
      if (claimed.length > 0) return claimed;
    }
    const res = (await blocking.xreadgroup(
      "GROUP",
      WALK_GROUP,
      this.#consumer,
      "COUNT",
      count,
      "BLOCK",
      Math.min(1000, lockMs / 2),
      "STREAMS",
      keys.events,
      ">",
    )) as [string, StreamEntry[]][] | null;
    return res?.[0]?.[1] ?? [];
  }

  async #walkOne([streamId, fields]: StreamEntry, routes: Awaited<ReturnType<RouteTable["current"]>>) {
    const json = fields[fields.indexOf("e") + 1];
    // A deleted entry claimed by XAUTOCLAIM comes back with no fields: nothing to walk.
    if (!json) return this.#commit.add({ streamId, deliveries: [], batched: [] });
    const event = JSON.parse(json) as HookgateEvent;
    const started = performance.now();
    const walks = await walkEvent(routes, event, this.#o.sandbox);
    this.#o.observer?.walked(walks, performance.now() - started);
    await this.#commit.add(outcomeOf(streamId, event, walks));
  }

  // Acknowledged only after the deliveries are recorded and queued: a crash before that leaves
  // the entries pending, to be walked again (delivery ids make that idempotent).
  async #commitWalks(items: WalkOutcome[]): Promise<void> {
    const { redis, keys, log, scheduler } = this.#o;
    const deliveries = items.flatMap((i) => i.deliveries);
    const enqueue = await log.create(deliveries);
    const queued = deliveries.filter((_, i) => enqueue[i]);
    await scheduler.dispatch(queued);
    await scheduler.buffer(items.flatMap((i) => i.batched));
    this.#o.observer?.deliveriesQueued(queued.map((d) => d.routeId));
    const ids = items.map((i) => i.streamId);
    await redis
      .multi()
      .xack(keys.events, WALK_GROUP, ...ids)
      .xdel(keys.events, ...ids)
      .exec();
  }
}
