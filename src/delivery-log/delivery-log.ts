import { Batcher } from "../shared/batcher.ts";
import { defineScript, type Redis, type RedisScript } from "../shared/redis.ts";
import { type RedisKeys, WALK_GROUP } from "../shared/redis-keys.ts";
import { retryWhileFull } from "../shared/storage-guard.ts";
import { DeliveryQueries } from "./delivery-queries.ts";
import type { AttemptRecord, CreateResult, DeliveryStatus, NewDelivery } from "./delivery-record.ts";
import { CREATE, DROP, HOLD, RECORD_ATTEMPT, RELEASE, REQUEUE } from "./delivery-scripts.ts";

/*
 * Delivery records: one hash per delivery, its attempts in a list, and two time indexes
 * (all, per route). Records expire after the retention window so Redis memory stays bounded;
 * the indexes are trimmed by age whenever a delivery is added. Writes are here, through the
 * Lua scripts of delivery-scripts.ts; reads are DeliveryQueries' (delivery-queries.ts).
 */

/** Held deliveries released or dropped per script call. */
const HELD_CHUNK = 500;

/** Deliveries recorded per script call. */
const CREATE_CHUNK = 200;

export class DeliveryLog extends DeliveryQueries {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #retentionS: number;
  readonly #maxCount: number;
  readonly #create: RedisScript;
  readonly #requeue: RedisScript;
  readonly #recordAttempt: RedisScript;
  readonly #hold: RedisScript;
  readonly #release: RedisScript;
  readonly #drop: RedisScript;
  /** Attempts recorded in the same tick share one pipeline (many deliveries finish together). */
  readonly #attempts: Batcher<{ keys: string[]; args: (string | number)[] }>;

  constructor(redis: Redis, keys: RedisKeys, retentionS: number, maxCount = 100_000) {
    super(redis, keys);
    this.#redis = redis;
    this.#maxCount = maxCount;
    this.#create = defineScript(redis, "hgCreateDeliveries", null, CREATE);
    this.#requeue = defineScript(redis, "hgRequeueDelivery", 1, REQUEUE);
    this.#recordAttempt = defineScript(redis, "hgRecordAttempt", 2, RECORD_ATTEMPT);
    this.#hold = defineScript(redis, "hgHoldDelivery", 3, HOLD);
    this.#release = defineScript(redis, "hgReleaseHeld", 1, RELEASE);
    this.#drop = defineScript(redis, "hgDropHeld", 1, DROP);
    this.#keys = keys;
    this.#retentionS = retentionS;
    // An attempt was made: its record is written even if Redis is full for a while.
    this.#attempts = new Batcher((items) =>
      retryWhileFull(async () => {
        const pipeline = this.#redis.pipeline();
        for (const item of items) this.#recordAttempt.queue(pipeline, item.keys, item.args);
        for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
      }),
    );
  }

  /**
   * Records the deliveries of walks (with their first attempt, when made from the walk) in one
   * call; `ack`: the walks' stream entries, acknowledged and deleted in the same call (the
   * walker's work, done here to save it a round trip: see CREATE).
   */
  async create(
    deliveries: readonly NewDelivery[],
    now = new Date(),
    ack: readonly string[] = [],
  ): Promise<CreateResult[]> {
    if (deliveries.length === 0 && ack.length === 0) return [];
    // One script call holds Redis for its length: big commits go in parts, one after another,
    // the acknowledgement with the last once the others are stored.
    if (deliveries.length > CREATE_CHUNK) {
      const out: CreateResult[] = [];
      for (let i = 0; i < deliveries.length; i += CREATE_CHUNK) {
        const last = i + CREATE_CHUNK >= deliveries.length;
        out.push(...(await this.create(deliveries.slice(i, i + CREATE_CHUNK), now, last ? ack : [])));
      }
      return out;
    }
    const at = now.toISOString();
    const keys = [this.#keys.events, this.#keys.deliveriesAll, this.#keys.routeStates];
    const args: (string | number)[] = [
      now.getTime(),
      this.#retentionS,
      this.#maxCount,
      this.#keys.delivery(""),
      WALK_GROUP,
      ack.length,
      ...ack,
    ];
    for (const d of deliveries) {
      const first = d.firstAttempt;
      const status: DeliveryStatus = d.error ? "failed" : d.held ? "held" : (first?.status ?? "pending");
      const error = d.error ?? first?.error ?? null;
      // The order of the record's fields is the order of this list (HSET of the pairs).
      const fields = [
        "id",
        d.id,
        "routeId",
        d.routeId,
        "routeVersion",
        String(d.routeVersion),
        "eventId",
        d.eventId,
        "eventType",
        d.eventType,
        "status",
        status,
        // A first attempt made from the walk started before this record could be written.
        "createdAt",
        first ? first.attempt.at : at,
        "updatedAt",
        at,
        "attemptCount",
        first ? "1" : "0",
        "nextAttemptAt",
        JSON.stringify(first?.nextAttemptAt ?? null),
        "error",
        JSON.stringify(error),
        "contentType",
        d.contentType ?? "",
        "body",
        d.body ?? "",
        "order",
        d.order,
        ...(d.eventIds ? ["eventIds", JSON.stringify(d.eventIds)] : []),
        // Kept where there is no body, so a retry can walk the event again (see walk/rewalk.ts).
        ...(d.event !== undefined ? ["event", d.event] : []),
      ];
      keys.push(
        this.#keys.delivery(d.id),
        this.#keys.deliveriesByRoute(d.routeId),
        this.#keys.deliveryAttempts(d.id),
        this.#keys.heldDeliveries(d.routeId),
      );
      args.push(status, first ? JSON.stringify(first.attempt) : "", d.id, fields.length, ...fields);
    }
    const results = (await this.#create.run(keys, args)) as number[];
    return results.map((value) => (value === 1 ? "queue" : value === 2 ? "recorded" : "exists"));
  }

  async recordAttempt(
    id: string,
    attempt: AttemptRecord,
    status: DeliveryStatus,
    update: { nextAttemptAt: string | null; error: { code: string; message: string } | null },
  ): Promise<void> {
    await this.#attempts.add({
      keys: [this.#keys.delivery(id), this.#keys.deliveryAttempts(id)],
      args: [
        JSON.stringify(attempt),
        status,
        attempt.at,
        JSON.stringify(update.nextAttemptAt),
        JSON.stringify(update.error),
        this.#retentionS,
      ],
    });
  }

  /**
   * Holds a delivery whose route is turned off and holds; answers the route's state, so the
   * caller knows whether it was held (hold), is to be dropped (drop), failed (deleted) or sent (on).
   */
  async hold(id: string, routeId: string, now = new Date()): Promise<"on" | "hold" | "drop" | "deleted"> {
    const keys = [this.#keys.delivery(id), this.#keys.routeStates, this.#keys.heldDeliveries(routeId)];
    return (await this.#hold.run(keys, [routeId, now.toISOString()])) as "on" | "hold" | "drop" | "deleted";
  }

  /**
   * Sends a route's held deliveries, oldest event first, a chunk at a time: `send` queues a
   * chunk, then its records go back to pending. Only for a route that is on (the caller's check).
   */
  async releaseHeld(
    routeId: string,
    send: (chunk: { id: string; order: string }[]) => Promise<void>,
    now = new Date(),
  ): Promise<number> {
    const index = this.#keys.heldDeliveries(routeId);
    let released = 0;
    for (;;) {
      const members = await this.#redis.zrange(index, 0, HELD_CHUNK - 1);
      if (members.length === 0) return released;
      await send(
        members.map((m) => {
          const at = m.indexOf("|");
          return { order: m.slice(0, at), id: m.slice(at + 1) };
        }),
      );
      await this.#release.run([index], [this.#keys.delivery(""), now.toISOString(), ...members]);
      released += members.length;
    }
  }

  /** Ends every held delivery of the route as failed with `error`; answers how many. */
  async dropHeld(
    routeId: string,
    error: { code: string; message: string },
    now = new Date(),
  ): Promise<number> {
    const args = [this.#keys.delivery(""), HELD_CHUNK, now.toISOString(), JSON.stringify(error)];
    let total = 0;
    for (;;) {
      const [taken, ended] = (await this.#drop.run([this.#keys.heldDeliveries(routeId)], args)) as number[];
      total += ended ?? 0;
      if (!taken) return total;
    }
  }

  /** What walking a delivery's event again gave: its body to send, or the walk's new error. */
  async rewalked(
    id: string,
    result: { body: string; contentType: string; routeVersion: number } | { code: string; message: string },
    now = new Date(),
  ): Promise<void> {
    const key = this.#keys.delivery(id);
    if ("body" in result) {
      const { body, contentType, routeVersion } = result;
      await this.#redis
        .multi()
        .hset(key, { body, contentType, routeVersion: String(routeVersion), updatedAt: now.toISOString() })
        .hdel(key, "event")
        .exec();
      return;
    }
    const error = JSON.stringify({ code: result.code, message: result.message });
    await this.#redis.hset(key, { error, updatedAt: now.toISOString() });
  }

  /** Marks a delivery failed without an attempt (its route was deleted, say). */
  async fail(id: string, error: { code: string; message: string }, now = new Date()): Promise<void> {
    await this.#redis.hset(this.#keys.delivery(id), {
      status: "failed",
      updatedAt: now.toISOString(),
      nextAttemptAt: "null",
      error: JSON.stringify(error),
    });
  }

  async requeue(id: string, now = new Date()): Promise<number> {
    return (await this.#requeue.run([this.#keys.delivery(id)], [now.toISOString(), 0])) as number;
  }

  /** Requeues the failed ones among `ids`; answers each one's manual-retry count (0: not requeued). */
  async requeueFailed(ids: readonly string[], now = new Date()): Promise<number[]> {
    if (ids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of ids) this.#requeue.queue(pipeline, [this.#keys.delivery(id)], [now.toISOString(), 1]);
    return ((await pipeline.exec()) ?? []).map(([err, value]) => {
      if (err) throw err;
      return Math.max(0, Number(value));
    });
  }
}
