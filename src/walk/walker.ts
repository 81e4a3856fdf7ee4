import { hostname } from "node:os";
import type { AttemptRunner } from "../delivery/index.ts";
import type { DeliveryLog } from "../delivery-log/index.ts";
import type { HookgateEvent } from "../events/index.ts";
import type { OwnEvents } from "../own-events/index.ts";
import type { DeliveryScheduler } from "../queue/index.ts";
import type { RouteStore, RouteTable } from "../routing/index.ts";
import type { Sandbox } from "../sandbox/index.ts";
import { Batcher } from "../shared/batcher.ts";
import type { Redis } from "../shared/redis.ts";
import { type RedisKeys, WALK_GROUP } from "../shared/redis-keys.ts";
import { retryWhileFull } from "../shared/storage-guard.ts";
import { DirectAttempts } from "./direct-attempts.ts";
import { type RouteWalk, walkEvent } from "./walk-event.ts";
import { outcomeOf, type WalkOutcome } from "./walk-outcome.ts";

/*
 * Reads accepted events from the stream (consumer group, so several workers share the work),
 * walks each, records and enqueues its deliveries, and only then acknowledges and deletes the
 * entry. A worker killed mid-walk leaves its entries pending; any live walker claims them after
 * `lockMs` and walks them again. Delivery ids derive from (event, route), so a second walk
 * re-finds the same deliveries instead of sending twice. With `direct`, first attempts are made
 * from the walk itself (direct-attempts.ts).
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
  /** First attempts straight from the walk (the process also runs a delivery worker). */
  direct?: { runner: AttemptRunner; store: RouteStore };
  /** Hookgate's own events: a delivery failed for good (its walk failed, or its first attempt). */
  ownEvents?: Pick<OwnEvents, "deliveryFailed">;
}

/** What the walker reports as it goes; the dry-run walks too but reports nothing. */
export interface WalkObserver {
  walked(walks: readonly RouteWalk[], durationMs: number): void;
  deliveriesQueued(routeIds: readonly string[]): void;
}

type StreamEntry = [id: string, fields: string[]];

export class Walker {
  readonly #o: WalkerOptions;
  readonly #consumer = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  #running = false;
  #readOk = true;
  #loop: Promise<void> | null = null;
  #lastClaim = 0;
  /** Stream entries being walked here: their claim is renewed so no other walker takes them. */
  readonly #holding = new Set<string>();
  #renewal: NodeJS.Timeout | null = null;
  /** Walks that finished in the same tick are recorded, queued and acknowledged together. */
  readonly #commit: Batcher<WalkOutcome>;
  readonly #direct: DirectAttempts | null;

  constructor(options: WalkerOptions) {
    this.#o = options;
    // Walks done (and attempts made from them) are recorded even if Redis is full for a while:
    // given up, the event would be walked and its deliveries sent again.
    this.#commit = new Batcher((items) => retryWhileFull(() => this.#commitWalks(items)));
    const { direct, log, scheduler, ownEvents } = options;
    this.#direct = direct
      ? new DirectAttempts({ ...direct, log, scheduler, ownEvents, commit: (o) => this.#commit.add(o) })
      : null;
  }

  async start(): Promise<void> {
    await this.#ensureGroup();
    this.#running = true;
    this.#loop = this.#run();
    // A walk may outlast lockMs (a direct attempt to a slow target, a function near its deadline):
    // renewing the claim (XCLAIM with JUSTID resets the idle time) keeps it ours while we live.
    this.#renewal = setInterval(() => void this.#renew(), Math.max(250, Math.floor(this.#o.lockMs / 3)));
    this.#renewal.unref();
  }

  async #renew(): Promise<void> {
    if (this.#holding.size === 0) return;
    const { redis, keys } = this.#o;
    try {
      // call(): XCLAIM's typed overloads do not resolve on the node-or-cluster client type.
      await redis.call("XCLAIM", keys.events, WALK_GROUP, this.#consumer, 0, ...this.#holding, "JUSTID");
    } catch (err) {
      this.#o.onError?.(err);
    }
  }

  /** The stream and its consumer group, made when missing (first start, or Redis lost its data). */
  async #ensureGroup(): Promise<void> {
    const { redis, keys } = this.#o;
    try {
      await redis.xgroup("CREATE", keys.events, WALK_GROUP, "0", "MKSTREAM");
    } catch (err) {
      if (!String(err).includes("BUSYGROUP")) throw err;
    }
  }

  isRunning(): boolean {
    return this.#running;
  }

  /** Running, and its last read of the stream worked (readiness: false while it cannot walk). */
  isHealthy(): boolean {
    return this.#running && this.#readOk;
  }

  /** Finishes the walks in hand; what was not read stays in the stream for the next walker. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#o.blocking.disconnect();
    await this.#loop;
    if (this.#renewal) clearInterval(this.#renewal);
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
        const { entries, reclaimed } = await this.#next(this.#o.concurrency - inflight.size);
        this.#readOk = true;
        if (entries.length === 0) continue;
        const routes = await this.#o.routes.current();
        for (const entry of entries) {
          this.#holding.add(entry[0]);
          const walk: Promise<void> = this.#walkOne(entry, routes, reclaimed)
            .catch((err) => this.#o.onError?.(err))
            .finally(() => {
              inflight.delete(walk);
              this.#holding.delete(entry[0]);
            });
          inflight.add(walk);
        }
      } catch (err) {
        if (!this.#running) break;
        this.#readOk = false;
        this.#o.onError?.(err);
        // Redis lost its data (a restart without it, FLUSHALL, a failover to an empty replica):
        // the group is made again and walking goes on with what arrives from now.
        if (String(err).includes("NOGROUP")) await this.#ensureGroup().catch((e) => this.#o.onError?.(e));
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await Promise.all(inflight);
  }

  async #next(count: number): Promise<{ entries: StreamEntry[]; reclaimed: boolean }> {
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
      if (claimed.length > 0) return { entries: claimed, reclaimed: true };
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
    return { entries: res?.[0]?.[1] ?? [], reclaimed: false };
  }

  async #walkOne(
    [streamId, fields]: StreamEntry,
    routes: Awaited<ReturnType<RouteTable["current"]>>,
    reclaimed: boolean,
  ) {
    const json = fields[fields.indexOf("e") + 1];
    // A deleted entry claimed by XAUTOCLAIM comes back with no fields: nothing to walk.
    if (!json) return this.#commit.add({ streamId, deliveries: [], batched: [] });
    const event = JSON.parse(json) as HookgateEvent;
    const started = performance.now();
    const walks = await walkEvent(routes, event, this.#o.sandbox, { holdDisabled: true });
    this.#o.observer?.walked(walks, performance.now() - started);
    const outcome = outcomeOf(streamId, event, walks, Date.now(), json);
    // An entry walked before may have been recorded and sent already: the queue checks that.
    if (!this.#direct || reclaimed) return this.#commit.add(outcome);
    await this.#direct.attemptNow(outcome, walks);
  }

  // Acknowledged only after the deliveries are recorded and queued: a crash before that leaves
  // the entries pending, to be walked again (delivery ids make that idempotent).
  async #commitWalks(items: WalkOutcome[]): Promise<void> {
    const { redis, keys, log, scheduler } = this.#o;
    const deliveries = items.flatMap((i) => i.deliveries);
    const batched = items.flatMap((i) => i.batched);
    const after = items.flatMap((i) => i.after ?? []);
    const ids = items.flatMap((i) => (i.streamId === null ? [] : [i.streamId]));
    const inFlight = new Set(items.flatMap((i) => (i.inFlight ? i.deliveries.map((d) => d.id) : [])));
    // When the records are all there is to write (every first attempt made and final), the
    // delivery log's create script acknowledges and deletes the stream entries in the same call
    // (delivery-log/delivery-scripts.ts, CREATE): the common case costs one round trip.
    // Otherwise they are acknowledged here, at the end, once everything else is done.
    const settled =
      batched.length === 0 &&
      inFlight.size === 0 &&
      deliveries.every((d) => d.error !== null || d.firstAttempt !== undefined) &&
      after.every((a) => a.retryDelayMs === null && a.disableReason === null);
    const created = await log.create(deliveries, new Date(), settled ? ids : []);
    // Recorded as failed now: its walk failed, or its first attempt failed for good.
    deliveries.forEach((d, i) => {
      const attempt = d.firstAttempt;
      if (created[i] !== "recorded" || !(d.error || attempt?.status === "failed")) return;
      const error = d.error ?? attempt?.error ?? null;
      this.#o.ownEvents?.deliveryFailed({ ...d, attempts: attempt ? attempt.attempt.n : 0, error });
    });
    this.#o.observer?.deliveriesQueued(
      deliveries
        .filter((d, i) => created[i] === "queue" || (created[i] === "recorded" && d.firstAttempt))
        .map((d) => d.routeId),
    );
    if (settled) return;
    await scheduler.dispatch(deliveries.filter((d, i) => created[i] === "queue" && !inFlight.has(d.id)));
    await scheduler.buffer(batched);
    // What the direct attempts decided, now that their records exist.
    const recorded = new Set(deliveries.filter((_, i) => created[i] === "recorded").map((d) => d.id));
    await Promise.all(
      after.filter((a) => recorded.has(a.deliveryId)).map((a) => this.#direct?.afterAttempt(a)),
    );
    if (ids.length === 0) return;
    await redis
      .multi()
      .xack(keys.events, WALK_GROUP, ...ids)
      .xdel(keys.events, ...ids)
      .exec();
  }
}
