import { Batcher } from "../shared/batcher.ts";
import { defineScript, type Redis, type RedisScript } from "../shared/redis.ts";
import type { RedisKeys } from "../shared/redis-keys.ts";
import type { AttemptRecord, Delivery, DeliveryStatus, NewDelivery } from "./delivery-record.ts";

/*
 * Delivery records: one hash per delivery, its attempts in a list, and two time indexes
 * (all, per route). Records expire after the retention window so Redis memory stays bounded;
 * the indexes are trimmed by age whenever a delivery is added.
 */

// KEYS: record, all-index, route-index. ARGV: createdAtMs, retentionS, json fields, status,
// maxCount, record key prefix. Returns 1 when the caller should enqueue (new, or still pending
// after a crash), else 0. Memory stays bounded by age (TTL, index trim) and by count: past
// maxCount the oldest finished records are deleted (unfinished ones live until they finish).
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HGET', KEYS[1], 'status') == 'pending' then return 1 end
  return 0
end
local fields = cjson.decode(ARGV[3])
for k, v in pairs(fields) do redis.call('HSET', KEYS[1], k, v) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
local cutoff = tonumber(ARGV[1]) - tonumber(ARGV[2]) * 1000
redis.call('ZADD', KEYS[2], ARGV[1], fields.id)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
redis.call('ZADD', KEYS[3], ARGV[1], fields.id)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', cutoff)
local max = tonumber(ARGV[5])
local over = redis.call('ZCARD', KEYS[2]) - max
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do
    local st = redis.call('HGET', ARGV[6] .. id, 'status')
    if st ~= 'pending' and st ~= 'retrying' then
      redis.call('DEL', ARGV[6] .. id, ARGV[6] .. id .. ':attempts')
    end
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
over = redis.call('ZCARD', KEYS[3]) - max
if over > 0 then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, over - 1) end
if ARGV[4] == 'pending' then return 1 end
return 0`;

// KEYS: record. ARGV: now, only failed (1/0). Moves a finished delivery back to pending for a
// manual retry. Returns the new manual-retry count, 0 when it is still in flight (or, with
// only-failed, did not fail), -1 when it does not exist.
const REQUEUE = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
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
  /** Attempts recorded in the same tick share one pipeline (many deliveries finish together). */
  readonly #attempts: Batcher<{ keys: string[]; args: (string | number)[] }>;

  constructor(redis: Redis, keys: RedisKeys, retentionS: number, maxCount = 100_000) {
    this.#redis = redis;
    this.#maxCount = maxCount;
    this.#create = defineScript(redis, "hgCreateDelivery", 3, CREATE);
    this.#requeue = defineScript(redis, "hgRequeueDelivery", 1, REQUEUE);
    this.#recordAttempt = defineScript(redis, "hgRecordAttempt", 2, RECORD_ATTEMPT);
    this.#keys = keys;
    this.#retentionS = retentionS;
    this.#attempts = new Batcher(async (items) => {
      const pipeline = this.#redis.pipeline();
      for (const item of items) this.#recordAttempt.queue(pipeline, item.keys, item.args);
      for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
    });
  }

  /** Records the deliveries of one walk; answers, per delivery, whether to enqueue it. */
  async create(deliveries: readonly NewDelivery[], now = new Date()): Promise<boolean[]> {
    if (deliveries.length === 0) return [];
    const at = now.toISOString();
    const pipeline = this.#redis.pipeline();
    for (const d of deliveries) {
      const status: DeliveryStatus = d.error ? "failed" : "pending";
      const fields = {
        id: d.id,
        routeId: d.routeId,
        routeVersion: String(d.routeVersion),
        eventId: d.eventId,
        eventType: d.eventType,
        status,
        createdAt: at,
        updatedAt: at,
        attemptCount: "0",
        nextAttemptAt: "null",
        error: JSON.stringify(d.error),
        contentType: d.contentType ?? "",
        body: d.body ?? "",
        order: d.order,
        ...(d.eventIds ? { eventIds: JSON.stringify(d.eventIds) } : {}),
      };
      this.#create.queue(
        pipeline,
        [this.#keys.delivery(d.id), this.#keys.deliveriesAll, this.#keys.deliveriesByRoute(d.routeId)],
        [
          now.getTime(),
          this.#retentionS,
          JSON.stringify(fields),
          status,
          this.#maxCount,
          this.#keys.delivery(""),
        ],
      );
    }
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, value]) => {
      if (err) throw err;
      return value === 1;
    });
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
    ...(attempts ? { attempts: attempts.map((a) => JSON.parse(a) as AttemptRecord) } : {}),
  };
}
