import { defineScript, type Redis, type RedisScript } from "../shared/redis.ts";
import type { RedisKeys } from "../shared/redis-keys.ts";

/*
 * Batch buffers: per route, the rendered bodies waiting to be sent together as {"events": [...]}
 * (Stalwart, Mailtrap). Items are ordered by ingest (members `<order>|<item id>`, scored 0) and
 * added once each, so a walk repeated after a crash does not add them twice. A flush job cuts
 * up to maxEvents of them into one delivery; the cut is remembered under the flush job's id, so
 * a flush repeated after a crash finds the same cut instead of taking other items.
 */

export interface BatchItem {
  routeId: string;
  /** The per-event delivery id it would have had without batching. */
  itemId: string;
  order: string;
  eventId: string;
  eventType: string;
  routeVersion: number;
  body: string;
  /** When it was added (ms): the batch goes at most maxWaitMs after its first item. */
  at: number;
}

// KEYS: order, items. ARGV: member, item JSON. Returns {count, oldest member, oldest item JSON}.
const ADD = `
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then redis.call('ZADD', KEYS[1], 0, ARGV[1]) end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
return {redis.call('ZCARD', KEYS[1]), oldest, redis.call('HGET', KEYS[2], oldest)}`;

// KEYS: cut, order, items. ARGV: maxEvents, keepS. Returns the cut's item JSONs (oldest first).
const CUT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('LRANGE', KEYS[1], 0, -1) end
local members = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1)
if #members == 0 then return {} end
local items = redis.call('HMGET', KEYS[3], unpack(members))
redis.call('ZREM', KEYS[2], unpack(members))
redis.call('HDEL', KEYS[3], unpack(members))
redis.call('RPUSH', KEYS[1], unpack(items))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return items`;

// KEYS: order, items. Returns {count, oldest item JSON} of what is left.
const REST = `
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if not oldest then return {0} end
return {redis.call('ZCARD', KEYS[1]), redis.call('HGET', KEYS[2], oldest)}`;

export interface BufferState {
  count: number;
  oldest: BatchItem | null;
}

export class BatchBuffer {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #add: RedisScript;
  readonly #cut: RedisScript;
  readonly #rest: RedisScript;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
    this.#add = defineScript(redis, "hgBatchAdd", 2, ADD);
    this.#cut = defineScript(redis, "hgBatchCut", 3, CUT);
    this.#rest = defineScript(redis, "hgBatchRest", 2, REST);
  }

  /** Adds items; answers each one's buffer as it stands after the add. */
  async add(items: readonly BatchItem[]): Promise<BufferState[]> {
    if (items.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const item of items) {
      this.#add.queue(
        pipeline,
        [this.#keys.batchOrder(item.routeId), this.#keys.batchItems(item.routeId)],
        [`${item.order}|${item.itemId}`, JSON.stringify(item)],
      );
    }
    return ((await pipeline.exec()) ?? []).map(([err, value]) => {
      if (err) throw err;
      const [count, , oldest] = value as [number, string, string | null];
      return { count: Number(count), oldest: oldest ? (JSON.parse(oldest) as BatchItem) : null };
    });
  }

  async cut(routeId: string, flushId: string, maxEvents: number): Promise<BatchItem[]> {
    const items = (await this.#cut.run(
      [this.#keys.batchCut(flushId), this.#keys.batchOrder(routeId), this.#keys.batchItems(routeId)],
      [maxEvents, 24 * 3600],
    )) as (string | null)[];
    return items.filter((i): i is string => i !== null).map((i) => JSON.parse(i) as BatchItem);
  }

  async rest(routeId: string): Promise<BufferState> {
    const [count, oldest] = (await this.#rest.run(
      [this.#keys.batchOrder(routeId), this.#keys.batchItems(routeId)],
      [],
    )) as [number, string?];
    return { count: Number(count), oldest: oldest ? (JSON.parse(oldest) as BatchItem) : null };
  }
}

/** The body of a batch: the items' JSON bodies in order, as Stalwart and Mailtrap send them. */
export function batchBody(items: readonly Pick<BatchItem, "body">[]): string {
  return `{"events":[${items.map((i) => i.body).join(",")}]}`;
}
