import { HookgateError } from "../errors.ts";
import type { Redis } from "../shared/redis.ts";
import type { RedisKeys } from "../shared/redis-keys.ts";
import type { Source } from "./source-schema.ts";

/** Sources live in one hash (id → JSON); ids are time-ordered, so sorting them lists by creation. */
export class SourceStore {
  readonly #redis: Redis;
  readonly #key: string;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#key = keys.sources;
  }

  async list(): Promise<Source[]> {
    const all = await this.#redis.hgetall(this.#key);
    return Object.keys(all)
      .sort()
      .map((id) => JSON.parse(all[id] as string) as Source);
  }

  async get(id: string): Promise<Source | null> {
    const json = await this.#redis.hget(this.#key, id);
    return json ? (JSON.parse(json) as Source) : null;
  }

  async require(id: string): Promise<Source> {
    const source = await this.get(id);
    if (!source) throw new HookgateError("HG_ERR_NOT_FOUND", `source ${id} does not exist`);
    return source;
  }

  async create(source: Source): Promise<void> {
    const ok = await this.#redis.hsetnx(this.#key, source.id, JSON.stringify(source));
    if (ok !== 1) throw new HookgateError("HG_ERR_CONFLICT", `source ${source.id} already exists`);
  }

  /** Replaces a stored source; 404 when it was deleted meanwhile. */
  async replace(source: Source): Promise<void> {
    const ok = await this.#redis.eval(
      "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end return 0",
      1,
      this.#key,
      source.id,
      JSON.stringify(source),
    );
    if (ok !== 1) throw new HookgateError("HG_ERR_NOT_FOUND", `source ${source.id} does not exist`);
  }

  async delete(id: string): Promise<boolean> {
    return (await this.#redis.hdel(this.#key, id)) === 1;
  }
}
