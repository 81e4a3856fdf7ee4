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
