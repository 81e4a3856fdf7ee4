import { defineScript, type Redis, type RedisScript } from "../shared/redis.ts";
import { hashKey, type KeyOut, type KeyRecord } from "./api-key.ts";

/*
 * API keys in Redis: one hash from the key's SHA-256 to its record (what a request is checked
 * against, one HGET), one from id to hash (listing and revoking), and one of last use. Nothing is
 * cached in a process: every request reads Redis, so a key deleted on one process is refused by
 * every other from the next request on.
 */

// KEYS: byHash, ids, used. ARGV: id. Returns 1 when the key was there.
const REVOKE = `
local hash = redis.call('HGET', KEYS[2], ARGV[1])
if not hash then return 0 end
redis.call('HDEL', KEYS[1], hash)
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1`;

// KEYS: ids, used. ARGV: id, ms. Noted only while the key exists, so a use racing a revoke leaves nothing.
const TOUCH = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1`;

/** lastUsedAt is noted at most this often per key and process: a busy key costs no write per request. */
const TOUCH_EVERY_MS = 60_000;

export class KeyStore {
  readonly #redis: Redis;
  readonly #byHash: string;
  readonly #ids: string;
  readonly #used: string;
  readonly #revoke: RedisScript;
  readonly #touch: RedisScript;
  readonly #touched = new Map<string, number>();

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#byHash = `${prefix}:keys`;
    this.#ids = `${prefix}:keys:ids`;
    this.#used = `${prefix}:keys:used`;
    this.#revoke = defineScript(redis, "hgRevokeKey", 3, REVOKE);
    this.#touch = defineScript(redis, "hgTouchKey", 2, TOUCH);
  }

  async create(record: KeyRecord, key: string): Promise<void> {
    const hash = hashKey(key);
    await this.#redis
      .multi()
      .hset(this.#byHash, hash, JSON.stringify(record))
      .hset(this.#ids, record.id, hash)
      .exec();
  }

  /** The record of the key presented, or null: read from Redis on every call. */
  async find(key: string): Promise<KeyRecord | null> {
    const json = await this.#redis.hget(this.#byHash, hashKey(key));
    return json ? (JSON.parse(json) as KeyRecord) : null;
  }

  async get(id: string): Promise<KeyRecord | null> {
    const hash = await this.#redis.hget(this.#ids, id);
    if (!hash) return null;
    const json = await this.#redis.hget(this.#byHash, hash);
    return json ? (JSON.parse(json) as KeyRecord) : null;
  }

  /** Every key, oldest first, with when it was last used. */
  async list(): Promise<KeyOut[]> {
    const [records, used] = await Promise.all([
      this.#redis.hvals(this.#byHash),
      this.#redis.hgetall(this.#used),
    ]);
    return records
      .map((json) => JSON.parse(json) as KeyRecord)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
      .map((r) => toKeyOut(r, used[r.id] ? Number(used[r.id]) : null));
  }

  async revoke(id: string): Promise<boolean> {
    this.#touched.delete(id);
    return (await this.#revoke.run([this.#byHash, this.#ids, this.#used], [id])) === 1;
  }

  /** Notes a use (at most once a minute per key here); never awaited by a request. */
  touch(id: string, nowMs: number): Promise<unknown> {
    const last = this.#touched.get(id);
    if (last !== undefined && nowMs - last < TOUCH_EVERY_MS) return Promise.resolve(0);
    this.#touched.set(id, nowMs);
    return this.#touch.run([this.#ids, this.#used], [id, nowMs]);
  }
}

export function toKeyOut(record: KeyRecord, lastUsedMs: number | null): KeyOut {
  return { ...record, lastUsedAt: lastUsedMs === null ? null : new Date(lastUsedMs).toISOString() };
}
