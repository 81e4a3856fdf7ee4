import type { Redis } from "../shared/redis.ts";
import {
  ALL_ROUTES,
  fieldsOf,
  type MinuteRow,
  minutesBetween,
  type StatsAnswer,
  summarize,
} from "./stats-buckets.ts";
import { statsMinuteKey } from "./stats-keys.ts";

export interface StatsQuery {
  /** One route, or every route (null). */
  routeId: string | null;
  sinceMs: number;
  untilMs: number;
  /** A multiple of a minute. */
  stepMs: number;
}

/** Reads the per-minute counters back: one HMGET per minute, all in one pipeline. */
export class StatsReader {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async read(q: StatsQuery): Promise<StatsAnswer> {
    const minutes = minutesBetween(q.sinceMs, q.untilMs);
    const fields = fieldsOf(q.routeId ?? ALL_ROUTES);
    const pipeline = this.#redis.pipeline();
    for (const m of minutes) pipeline.hmget(statsMinuteKey(this.#prefix, m), ...fields);
    const results = (await pipeline.exec()) ?? [];
    const rows = results.map(([err, row]) => {
      if (err) throw err;
      return row as MinuteRow;
    });
    return summarize(minutes, rows, q.sinceMs, q.untilMs, q.stepMs);
  }
}
