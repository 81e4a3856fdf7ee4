import { defineScript, type Redis, type RedisScript } from "../shared/redis.ts";
import { type RedisKeys, WALK_GROUP } from "../shared/redis-keys.ts";

/*
 * FIFO lanes: per route, a sorted set of its unfinished deliveries ordered by the ingest order of
 * their events (members `<order>|<deliveryId>`, all scored 0, so they sort by text). Only the head
 * is sent; the next one goes when the head has succeeded or failed for good, retries included.
 * Walks run concurrently, so an event may be committed after a later one: the head also waits
 * until no earlier stream entry is still being walked (XPENDING's smallest id).
 */

const FINAL = `local function final(prefix, id)
  local st = redis.call('HGET', prefix .. id, 'status')
  return st ~= 'pending' and st ~= 'retrying' and st ~= 'held'
end`;

// KEYS: lane, record, lanes. ARGV: member, routeId, record prefix.
// Returns {head delivery id, its manual retries} or {} when the lane is empty.
const PUSH = `${FINAL}
if redis.call('HSETNX', KEYS[2], 'lane', ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[1], 0, ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[2])
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if not head then return {} end
local id = string.match(head, '|(.+)$')
return {id, redis.call('HGET', ARGV[3] .. id, 'manualRetries') or '0'}`;

// KEYS: lane, events stream. ARGV: member, walk group, record prefix.
// 1: this delivery's turn; 0: wait; -1: not in the lane (send unordered).
const TURN = `${FINAL}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
while true do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if head == ARGV[1] then break end
  if not final(ARGV[3], string.match(head, '|(.+)$')) then return 0 end
  redis.call('ZREM', KEYS[1], head)
end
local pending = redis.call('XPENDING', KEYS[2], ARGV[2])
local oldest = pending[2]
if oldest and oldest ~= false then
  local ms, seq = string.match(oldest, '^(%d+)-(%d+)$')
  local padded = string.format('%015d-%010d', tonumber(ms), tonumber(seq))
  if padded < string.match(ARGV[1], '^([^|]+)|') then return 0 end
end
return 1`;

// KEYS: lane, lanes. ARGV: member (may be empty), record prefix, routeId.
// Removes the finished delivery and any finished heads; returns the new head like PUSH.
const ADVANCE = `${FINAL}
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
while true do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if not head then
    redis.call('SREM', KEYS[2], ARGV[3])
    return {}
  end
  local id = string.match(head, '|(.+)$')
  if not final(ARGV[2], id) then
    return {id, redis.call('HGET', ARGV[2] .. id, 'manualRetries') or '0', redis.call('HGET', ARGV[2] .. id, 'status')}
  end
  redis.call('ZREM', KEYS[1], head)
end`;

/** The order of a stream entry as text that sorts like the id: 1732..-5 → 000001732..-0000000005. */
export function streamOrder(streamId: string): string {
  const [ms = "0", seq = "0"] = streamId.split("-");
  return `${ms.padStart(15, "0")}-${seq.padStart(10, "0")}`;
}

export interface LaneHead {
  deliveryId: string;
  routeId: string;
  manualRetry: number;
  /** pending (never tried, or deferred) or retrying (waiting out its backoff). */
  status?: string;
}

export class FifoLanes {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #push: RedisScript;
  readonly #turn: RedisScript;
  readonly #advance: RedisScript;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
    this.#push = defineScript(redis, "hgFifoPush", 3, PUSH);
    this.#turn = defineScript(redis, "hgFifoTurn", 2, TURN);
    this.#advance = defineScript(redis, "hgFifoAdvance", 2, ADVANCE);
  }

  get #recordPrefix(): string {
    return this.#keys.delivery("");
  }

  /** Adds deliveries to their lanes (once each); answers each lane's head, to be queued. */
  async push(items: readonly { deliveryId: string; routeId: string; order: string }[]): Promise<LaneHead[]> {
    if (items.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const d of items) {
      this.#push.queue(
        pipeline,
        [this.#keys.fifoLane(d.routeId), this.#keys.delivery(d.deliveryId), this.#keys.fifoLanes],
        [`${d.order}|${d.deliveryId}`, d.routeId, this.#recordPrefix],
      );
    }
    return headsOf(
      await pipeline.exec(),
      items.map((i) => i.routeId),
    );
  }

  /** Puts a finished delivery back in its lane (a manual retry): it forgets its old place first. */
  async repush(d: { deliveryId: string; routeId: string; order: string }): Promise<LaneHead[]> {
    await this.#redis.hdel(this.#keys.delivery(d.deliveryId), "lane");
    return this.push([d]);
  }

  async turn(routeId: string, deliveryId: string, member: string): Promise<"go" | "wait" | "unordered"> {
    const answer = Number(
      await this.#turn.run(
        [this.#keys.fifoLane(routeId), this.#keys.events],
        [member || `~|${deliveryId}`, WALK_GROUP, this.#recordPrefix],
      ),
    );
    return answer === 1 ? "go" : answer === 0 ? "wait" : "unordered";
  }

  /** After a delivery finished (or to restart a lane): the lane's next head, if any. */
  async advance(routeId: string, member: string): Promise<LaneHead | null> {
    const answer = await this.#advance.run(
      [this.#keys.fifoLane(routeId), this.#keys.fifoLanes],
      [member, this.#recordPrefix, routeId],
    );
    return headsOf([[null, answer]], [routeId])[0] ?? null;
  }

  async routesWithLanes(): Promise<string[]> {
    return this.#redis.smembers(this.#keys.fifoLanes);
  }
}

function headsOf(results: [Error | null, unknown][] | null, routeIds: readonly string[]): LaneHead[] {
  const heads: LaneHead[] = [];
  (results ?? []).forEach(([err, value], i) => {
    if (err) throw err;
    const [id, retries, status] = value as [string?, string?, string?];
    if (!id) return;
    heads.push({
      deliveryId: id,
      routeId: routeIds[i] ?? "",
      manualRetry: Number(retries ?? 0),
      ...(status ? { status } : {}),
    });
  });
  return heads;
}
