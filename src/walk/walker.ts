import { hostname } from "node:os";
import type { AttemptOutcome, AttemptRunner } from "../delivery/index.ts";
import type { DeliveryLog, NewDelivery } from "../delivery-log/index.ts";
import type { HookgateEvent } from "../events/index.ts";
import { deliveryIdFor } from "../ids.ts";
import type { OwnEvents } from "../own-events/index.ts";
import {
  type BatchItem,
  type BatchSettings,
  batchBody,
  type DeliveryScheduler,
  retryJobId,
  streamOrder,
} from "../queue/index.ts";
import type { Route, RouteStore, RouteTable } from "../routing/index.ts";
import type { Sandbox } from "../sandbox/index.ts";
import { Batcher } from "../shared/batcher.ts";
import type { Redis } from "../shared/redis.ts";
import { type RedisKeys, WALK_GROUP } from "../shared/redis-keys.ts";
import { retryWhileFull } from "../shared/storage-guard.ts";
import { type RouteWalk, walkEvent } from "./walk-event.ts";

/*
 * Reads accepted events from the stream (consumer group, so several workers share the work),
 * walks each, records and enqueues its deliveries, and only then acknowledges and deletes the
 * entry. A worker killed mid-walk leaves its entries pending; any live walker claims them after
 * `lockMs` and walks them again. Delivery ids derive from (event, route), so a second walk
 * re-finds the same deliveries instead of sending twice.
 *
 * With `direct`, a delivery's first attempt is made from the walk itself when its target is
 * answering well and a lane is free: the record is then written once, with the attempt, and no
 * queue job is needed (most of the Redis work and the queue hop's latency saved). The event
 * stays pending in the stream until then, so a crash in between means the event is walked
 * again and the delivery queued (at least once: the receiver may see it twice, never zero
 * times). Everything else (a busy or troubled target, FIFO, batches, retries) takes the queue.
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

/**
 * A first attempt from the walk not answered by then gets its record written (pending, attempt
 * count 0) so the API shows it, and is recorded again when answered.
 */
const SHOW_IN_FLIGHT_MS = 250;

interface DirectAfter {
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

  constructor(options: WalkerOptions) {
    this.#o = options;
    // Walks done (and attempts made from them) are recorded even if Redis is full for a while:
    // given up, the event would be walked and its deliveries sent again.
    this.#commit = new Batcher((items) => retryWhileFull(() => this.#commitWalks(items)));
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
      await redis.xclaim(keys.events, WALK_GROUP, this.#consumer, 0, ...this.#holding, "JUSTID");
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
    const runner = this.#o.direct?.runner;
    // An entry walked before may have been recorded and sent already: the queue checks that.
    if (!runner || reclaimed) return this.#commit.add(outcome);
    await this.#attemptNow(outcome, walks, runner);
  }

  /**
   * First attempts made now for the deliveries whose target answers well; the rest are
   * committed (and queued) at once. The entry is acknowledged once every record is written: in
   * the common case, with the records of attempts answered quickly, in one call.
   */
  async #attemptNow(outcome: WalkOutcome, walks: readonly RouteWalk[], runner: AttemptRunner) {
    const routes = new Map<string, Route>(walks.map((w) => [w.route.route.id, w.route.route]));
    const direct: { d: NewDelivery; route: Route }[] = [];
    const rest: NewDelivery[] = [];
    for (const d of outcome.deliveries) {
      const route = routes.get(d.routeId);
      if (route && !d.error && !d.held && !d.fifo && runner.directOk(route)) direct.push({ d, route });
      else rest.push(d);
    }
    if (direct.length === 0) return this.#commit.add(outcome);
    const commits: Promise<void>[] = [];
    if (rest.length > 0 || outcome.batched.length > 0)
      commits.push(this.#commit.add({ streamId: null, deliveries: rest, batched: outcome.batched }));
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), SHOW_IN_FLIGHT_MS);
    });
    const answered: NewDelivery[] = [];
    const after: DirectAfter[] = [];
    // Settled, not all: the entry stays claimed (and renewed) until every attempt is over.
    const results = await Promise.allSettled(
      direct.map(async ({ d, route }) => {
        const attempt = runner.run(route, { ...d, attemptCount: 0 }, { patient: true });
        const out = await Promise.race([attempt, slow]);
        if (out === null) {
          await this.#commit.add({ streamId: null, deliveries: [d], batched: [], inFlight: true });
          await this.#settleLate(d, await attempt);
          return;
        }
        answered.push(d);
        // Handed back (the target is busy and not moving, or the route was turned off meanwhile):
        // recorded as pending and queued, where the worker sees the route as it is then.
        if (out.kind !== "attempted") return;
        d.firstAttempt = {
          attempt: out.attempt,
          status: out.status,
          nextAttemptAt: out.nextAttemptAt,
          error: out.error,
        };
        after.push({
          deliveryId: d.id,
          routeId: d.routeId,
          retryDelayMs: out.retryDelayMs,
          disableReason: out.disableReason,
        });
      }),
    );
    clearTimeout(timer);
    const failed = results.find((r) => r.status === "rejected");
    // Unexpected (Redis went away): the entry stays pending and is walked again through the queue.
    if (failed) throw failed.reason;
    await Promise.all(commits);
    await this.#commit.add({ streamId: outcome.streamId, deliveries: answered, batched: [], after });
  }

  /** A first attempt answered after its record was written as pending. */
  async #settleLate(d: NewDelivery, out: AttemptOutcome): Promise<void> {
    const { log, scheduler } = this.#o;
    if (out.kind !== "attempted") return scheduler.dispatch([d]);
    await log.recordAttempt(d.id, out.attempt, out.status, {
      nextAttemptAt: out.nextAttemptAt,
      error: out.error,
    });
    if (out.status === "failed")
      this.#o.ownEvents?.deliveryFailed({ ...d, attempts: out.attempt.n, error: out.error });
    await this.#afterAttempt({
      deliveryId: d.id,
      routeId: d.routeId,
      retryDelayMs: out.retryDelayMs,
      disableReason: out.disableReason,
    });
  }

  /** What an attempt from the walk decided, once its record says so: a retry, a disabled route. */
  async #afterAttempt(a: DirectAfter): Promise<void> {
    if (a.retryDelayMs !== null)
      await this.#o.scheduler.later(a.deliveryId, a.routeId, a.retryDelayMs, retryJobId(a.deliveryId, 1));
    if (a.disableReason) await this.#o.direct?.store.disable(a.routeId, a.disableReason);
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
    // When the records are all there is to write (every first attempt made and final), they
    // and the acknowledgement go in one call: the common case costs one round trip.
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
    await Promise.all(after.filter((a) => recorded.has(a.deliveryId)).map((a) => this.#afterAttempt(a)));
    if (ids.length === 0) return;
    await redis
      .multi()
      .xack(keys.events, WALK_GROUP, ...ids)
      .xdel(keys.events, ...ids)
      .exec();
  }
}
