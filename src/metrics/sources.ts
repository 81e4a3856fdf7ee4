import type { Redis } from "../shared/redis.ts";
import { type RedisKeys, WALK_GROUP } from "../shared/redis-keys.ts";

/*
 * What the gauges read when Prometheus scrapes, as narrow interfaces: the BullMQ Queue, the
 * Sandbox and the events stream each satisfy one without knowing about metrics.
 */

/** BullMQ's Queue.getJobCounts. */
export interface QueueDepthSource {
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

export interface EventStreamSource {
  /** Entries in the stream: accepted events not yet walked and deleted. */
  length(): Promise<number>;
  /** Entries read by a walker and not yet acknowledged (being walked, or held by a dead walker). */
  pending(): Promise<number>;
}

/** Sandbox.stats() and heapStatistics(). */
export interface SandboxSource {
  stats(): { isolates: number };
  heapStatistics(): {
    isolates: number;
    usedHeapBytes: number;
    totalHeapBytes: number;
    externalBytes: number;
    heapLimitBytes: number;
  };
}

export function eventStreamOf(redis: Redis, keys: RedisKeys): EventStreamSource {
  return {
    length: () => redis.xlen(keys.events),
    async pending() {
      try {
        const [count] = (await redis.xpending(keys.events, WALK_GROUP)) as [number, ...unknown[]];
        return Number(count);
      } catch (err) {
        // No walker has created the group yet (an API-only deployment before its first worker).
        if (String(err).includes("NOGROUP")) return 0;
        throw err;
      }
    },
  };
}
