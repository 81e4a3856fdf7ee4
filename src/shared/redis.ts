import { Redis, type RedisOptions } from "ioredis";

export type { Redis } from "ioredis";

/**
 * Commands fail at once while Redis is away (no offline queue), so the API answers 503 instead of
 * accepting work it cannot store. BullMQ gets its own connections (it needs maxRetriesPerRequest null).
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    lazyConnect: false,
    ...options,
  });
}

export function createBlockingRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableOfflineQueue: true });
}

export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await redis.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

export interface RedisScript {
  run(keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** Queues the script on a pipeline or multi; the result comes with the pipeline's exec(). */
  queue(
    pipeline: ReturnType<Redis["pipeline"]>,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): void;
}

/**
 * A Lua script sent once and then called by its SHA (ioredis defineCommand): EVAL would send
 * the whole script text with every call, which showed up as a tenth of the CPU in profiles.
 * `numberOfKeys` null: as many keys as each call passes.
 */
export function defineScript(
  redis: Redis,
  name: string,
  numberOfKeys: number | null,
  lua: string,
): RedisScript {
  redis.defineCommand(name, numberOfKeys === null ? { lua } : { numberOfKeys, lua });
  const head = (keys: readonly string[]) => (numberOfKeys === null ? [keys.length, ...keys] : keys);
  return {
    run: (keys, args) =>
      (redis as unknown as Record<string, ScriptFn>)[name]?.(...head(keys), ...args) as Promise<unknown>,
    queue: (pipeline, keys, args) => {
      (pipeline as unknown as Record<string, ScriptFn>)[name]?.(...head(keys), ...args);
    },
  };
}
