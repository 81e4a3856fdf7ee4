import { Batcher } from "../shared/batcher.ts";
import { defineScript, type Redis, type RedisScript } from "../shared/redis.ts";
import { type RedisKeys, WALK_GROUP } from "../shared/redis-keys.ts";
import { retryWhileFull } from "../shared/storage-guard.ts";
import type {
  AttemptRecord,
  CreateResult,
  Delivery,
  DeliveryStatus,
  NewDelivery,
} from "./delivery-record.ts";

/*
 * Delivery records: one hash per delivery, its attempts in a list, and two time indexes
 * (all, per route). Records expire after the retention window so Redis memory stays bounded;
 * the indexes are trimmed by age whenever a delivery is added.
 */

// Records many deliveries in one call. KEYS: events stream, all-index, then per delivery its
// record, route index and attempts list. ARGV: createdAtMs, retentionS, maxCount, record key
// prefix, walk group, number of stream ids to acknowledge, those ids, then per delivery: status,
// first attempt JSON ('' if none), id, number of field/value items, the items. Per delivery it
// answers 1 when the caller should queue it (new and pending, or still pending after a crash),
// 2 when it was written finished or retrying (a walk error, a first attempt made from the walk),
// 0 when it existed. The stream entries are acknowledged and deleted in the same call, when the
// caller has nothing left to do before that. Memory stays bounded by age (TTL, index trim) and
// by count: past maxCount the oldest finished records are deleted (unfinished ones live on).
const CREATE = `
local now, retention, max, prefix = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
local nack = tonumber(ARGV[6])
local out, touched = {}, {}
local a, k = 7 + nack, 4
while a <= #ARGV do
  local status, attempt, id, n = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  local record, byRoute, attempts, held = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  if redis.call('EXISTS', record) == 1 then
    out[#out + 1] = (redis.call('HGET', record, 'status') == 'pending') and 1 or 0
  else
    redis.call('HSET', record, unpack(ARGV, a + 4, a + 3 + n))
    redis.call('EXPIRE', record, retention)
    if attempt ~= '' then
      redis.call('RPUSH', attempts, attempt)
      redis.call('EXPIRE', attempts, retention)
    end
    redis.call('ZADD', KEYS[2], now, id)
    redis.call('ZADD', byRoute, now, id)
    touched[byRoute] = true
    if status == 'held' then
      -- Held only while its route still holds: turned on (or dropping, or deleted) since the
      -- walk read it, it goes to the queue, where the attempt sees the route as it is now.
      if redis.call('HGET', KEYS[3], redis.call('HGET', record, 'routeId')) == 'hold' then
        redis.call('ZADD', held, 0, redis.call('HGET', record, 'order') .. '|' .. id)
        redis.call('EXPIRE', held, retention)
      else
        status = 'pending'
        redis.call('HSET', record, 'status', status)
      end
    end
    out[#out + 1] = (status == 'pending') and 1 or 2
  end
  a = a + 4 + n
  k = k + 4
end
local cutoff = now - tonumber(retention) * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
local over = redis.call('ZCARD', KEYS[2]) - max
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do
    local st = redis.call('HGET', prefix .. id, 'status')
    if st ~= 'pending' and st ~= 'retrying' and st ~= 'held' then
      redis.call('DEL', prefix .. id, prefix .. id .. ':attempts')
    end
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
for byRoute in pairs(touched) do
  redis.call('ZREMRANGEBYSCORE', byRoute, '-inf', cutoff)
  over = redis.call('ZCARD', byRoute) - max
  if over > 0 then redis.call('ZREMRANGEBYRANK', byRoute, 0, over - 1) end
end
if nack > 0 then
  redis.call('XACK', KEYS[1], ARGV[5], unpack(ARGV, 7, 6 + nack))
  redis.call('XDEL', KEYS[1], unpack(ARGV, 7, 6 + nack))
end
return out`;

// KEYS: record. ARGV: now, only failed (1/0). Moves a finished delivery back to pending for a
// manual retry. Returns the new manual-retry count, 0 when it is still in flight (or, with
// only-failed, did not fail), -1 when it does not exist, -2 when it is held by its route.
const REQUEUE = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
if status == 'held' then return -2 end
if status == 'pending' or status == 'retrying' then return 0 end
if ARGV[2] == '1' and status ~= 'failed' then return 0 end
-- A new run: its retry schedule counts from the attempts made so far.
redis.call('HSET', KEYS[1], 'status', 'pending', 'updatedAt', ARGV[1], 'error', 'null', 'nextAttemptAt', 'null',
  'runStart', redis.call('HGET', KEYS[1], 'attemptCount') or '0')
return redis.call('HINCRBY', KEYS[1], 'manualRetries', 1)`;

// KEYS: record, attempts. ARGV: attempt JSON, status, updatedAt, nextAttemptAt JSON, error JSON,
// retentionS. One call instead of a seven-command MULTI on the hot path of every attempt.
// Attempts beyond the last 100 of one delivery are dropped (manual retries can add many).
const RECORD_ATTEMPT = `
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -100, -1)
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updatedAt', ARGV[3], 'nextAttemptAt', ARGV[4], 'error', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'attemptCount', 1)
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 1`;

// KEYS: record, route states, held index. ARGV: routeId, now. A pending or retrying delivery
// whose route holds is marked held (kept in order in the held index). Answers the route's state
// ('deleted' when it is gone); only 'hold' changed anything. Atomic with the state, so a
// delivery is never held after its route was turned on and its held ones released.
const HOLD = `
local state = redis.call('HGET', KEYS[2], ARGV[1]) or 'deleted'
if state ~= 'hold' then return state end
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'pending' and status ~= 'retrying' then return state end
redis.call('HSET', KEYS[1], 'status', 'held', 'updatedAt', ARGV[2], 'nextAttemptAt', 'null')
redis.call('ZADD', KEYS[3], 0, (redis.call('HGET', KEYS[1], 'order') or '') .. '|' .. redis.call('HGET', KEYS[1], 'id'))
redis.call('EXPIRE', KEYS[3], redis.call('TTL', KEYS[1]))
return state`;

// KEYS: held index. ARGV: record prefix, now, members. Takes the members off the index and
// moves those still held back to pending. Called after their jobs were queued: a job that runs
// first finds its delivery held on a route that is on, and sends it all the same.
const RELEASE = `
for i = 3, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  local record = ARGV[1] .. string.match(ARGV[i], '|(.+)$')
  if redis.call('HGET', record, 'status') == 'held' then
    redis.call('HSET', record, 'status', 'pending', 'updatedAt', ARGV[2])
  end
end
return 1`;

// KEYS: held index. ARGV: record prefix, count, now, error JSON. Ends up to count held
// deliveries as failed with the given error; answers {members taken off the index, ended}.
const DROP = `
local n = 0
local members = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
for _, member in ipairs(members) do
  redis.call('ZREM', KEYS[1], member)
  local record = ARGV[1] .. string.match(member, '|(.+)$')
  if redis.call('HGET', record, 'status') == 'held' then
    redis.call('HSET', record, 'status', 'failed', 'updatedAt', ARGV[3], 'error', ARGV[4])
    n = n + 1
  end
end
return {#members, n}`;

/** Held deliveries released or dropped per script call. */
const HELD_CHUNK = 500;

/** Deliveries recorded per script call. */
const CREATE_CHUNK = 200;

export interface ListQuery {
  routeId?: string;
  status?: DeliveryStatus;
  /** Only deliveries created before this (ms), for paging backwards in time. */
  beforeMs?: number;
  sinceMs?: number;
  limit: number;
}

export class DeliveryLog {
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
   * call; `ack`: the walks' stream entries, acknowledged in the same call.
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

  /** A route's delivery ids created in [sinceMs, untilMs], oldest first, a page at a time. */
  idsOfRoute(routeId: string, sinceMs: number, untilMs: number): AsyncGenerator<string[]> {
    return idsOfRoute(this.#redis, this.#keys, routeId, sinceMs, untilMs);
  }

  async get(id: string, withAttempts = true): Promise<Delivery | null> {
    const [record, attempts] = await Promise.all([
      this.#redis.hgetall(this.#keys.delivery(id)),
      withAttempts ? this.#redis.lrange(this.#keys.deliveryAttempts(id), 0, -1) : Promise.resolve(null),
    ]);
    if (!record.id) return null;
    return toDelivery(record, attempts);
  }

  /** Several records at once, without attempts (null for the ones gone past retention). */
  async getMany(ids: readonly string[]): Promise<(Delivery | null)[]> {
    if (ids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.#keys.delivery(id));
    return ((await pipeline.exec()) ?? []).map(([err, record]) => {
      if (err) throw err;
      const r = record as Record<string, string>;
      return r.id ? toDelivery(r, null) : null;
    });
  }

  async list(query: ListQuery): Promise<Delivery[]> {
    const index = query.routeId ? this.#keys.deliveriesByRoute(query.routeId) : this.#keys.deliveriesAll;
    const max = query.beforeMs === undefined ? "+inf" : `(${query.beforeMs}`;
    const min = query.sinceMs === undefined ? "-inf" : String(query.sinceMs);
    const out: Delivery[] = [];
    let offset = 0;
    const page = Math.max(query.limit * 2, 50);
    // Walk the index newest first; status is filtered here because it changes after indexing.
    while (out.length < query.limit) {
      const ids = await this.#redis.zrevrangebyscore(index, max, min, "LIMIT", offset, page);
      if (ids.length === 0) break;
      offset += ids.length;
      const pipeline = this.#redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.#keys.delivery(id));
      const records = (await pipeline.exec()) ?? [];
      for (const [, record] of records) {
        const r = record as Record<string, string>;
        if (!r.id) continue; // expired: the index is trimmed lazily
        const d = toDelivery(r, null);
        if (query.status && d.status !== query.status) continue;
        out.push(d);
        if (out.length === query.limit) break;
      }
      if (ids.length < page) break;
    }
    return out;
  }
}

async function* idsOfRoute(
  redis: Redis,
  keys: RedisKeys,
  routeId: string,
  sinceMs: number,
  untilMs: number,
  page = 500,
): AsyncGenerator<string[]> {
  let offset = 0;
  for (;;) {
    const ids = await redis.zrangebyscore(
      keys.deliveriesByRoute(routeId),
      sinceMs,
      untilMs,
      "LIMIT",
      offset,
      page,
    );
    if (ids.length === 0) return;
    offset += ids.length;
    yield ids;
    if (ids.length < page) return;
  }
}

function toDelivery(r: Record<string, string>, attempts: string[] | null): Delivery {
  return {
    id: r.id ?? "",
    routeId: r.routeId ?? "",
    routeVersion: Number(r.routeVersion ?? 0),
    eventId: r.eventId ?? "",
    eventType: r.eventType ?? "",
    status: (r.status ?? "pending") as DeliveryStatus,
    createdAt: r.createdAt ?? "",
    updatedAt: r.updatedAt ?? "",
    attemptCount: Number(r.attemptCount ?? 0),
    nextAttemptAt: JSON.parse(r.nextAttemptAt ?? "null") as string | null,
    error: JSON.parse(r.error ?? "null") as Delivery["error"],
    contentType: r.contentType || null,
    body: r.body ?? null,
    ...(r.order ? { order: r.order } : {}),
    ...(r.runStart ? { runStart: Number(r.runStart) } : {}),
    ...(r.eventIds ? { eventIds: JSON.parse(r.eventIds) as string[] } : {}),
    ...(r.event ? { event: r.event } : {}),
    ...(attempts ? { attempts: attempts.map((a) => JSON.parse(a) as AttemptRecord) } : {}),
  };
}
