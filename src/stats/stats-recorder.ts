import type { Redis } from "../shared/redis.ts";
import type { WalkObserver } from "../walk/index.ts";
import {
  ALL_ROUTES,
  type Counter,
  counterField,
  latencyBucket,
  latencyField,
  MINUTE_MS,
  minuteOf,
  STATS_RETENTION_MS,
} from "./stats-buckets.ts";
import { statsMinuteKey } from "./stats-keys.ts";

/*
 * Counts, per route and minute, what the walker and the attempts of this process did, and adds
 * it to Redis every `flushMs` in one pipeline (HINCRBY per counter touched, EXPIRE per minute):
 * the hot paths only bump numbers in a map. Every process adds to the same hashes, so the
 * counts are the gateway's, and a graceful stop flushes what is left.
 */

export interface StatsRecorderOptions {
  /** How often counts go to Redis (ms). */
  flushMs?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

/** What an attempt report (AttemptRunner's onAttempt) carries that the counters need. */
export interface AttemptSeen {
  routeId: string;
  outcome: "delivered" | "retry" | "failed";
  durationMs: number;
}

const OUTCOME_COUNTER: Record<AttemptSeen["outcome"], Counter> = {
  delivered: "delivered",
  retry: "retried",
  failed: "failed",
};

export class StatsRecorder implements WalkObserver {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #o: StatsRecorderOptions;
  /** minute (ms) → field → count not yet in Redis. */
  #pending = new Map<number, Map<string, number>>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(redis: Redis, prefix: string, options: StatsRecorderOptions = {}) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#o = options;
    this.#timer = setInterval(() => void this.flush(), options.flushMs ?? 1_000);
    this.#timer.unref();
  }

  walked(): void {}

  /** Deliveries recorded for the first time (a walk made again does not count twice). */
  deliveriesQueued(routeIds: readonly string[]): void {
    for (const routeId of routeIds) this.#count(routeId, counterField, "in");
  }

  attempt(report: AttemptSeen): void {
    this.#count(report.routeId, counterField, OUTCOME_COUNTER[report.outcome]);
    this.#count(report.routeId, latencyField, latencyBucket(report.durationMs));
  }

  #count<K>(routeId: string, field: (routeId: string, k: K) => string, k: K): void {
    const fields = this.#minute(minuteOf((this.#o.now ?? Date.now)()));
    for (const id of [routeId, ALL_ROUTES]) {
      const f = field(id, k);
      fields.set(f, (fields.get(f) ?? 0) + 1);
    }
  }

  #minute(minute: number): Map<string, number> {
    const found = this.#pending.get(minute);
    if (found) return found;
    const fields = new Map<string, number>();
    this.#pending.set(minute, fields);
    return fields;
  }

  /** Sends what was counted since the last flush; counts that fail to go are kept for the next. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#send());
    return this.#flushing;
  }

  async #send(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    const pipeline = this.#redis.pipeline();
    for (const [minute, fields] of batch) {
      const key = statsMinuteKey(this.#prefix, minute);
      for (const [field, n] of fields) pipeline.hincrby(key, field, n);
      // Expires a retention after the minute ends, whoever wrote to it last.
      pipeline.pexpireat(key, minute + MINUTE_MS + STATS_RETENTION_MS);
    }
    try {
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed) throw failed[0];
    } catch (err) {
      // Counted again next time (an HINCRBY that did land is then counted twice: rare, harmless).
      for (const [minute, fields] of batch) {
        const into = this.#minute(minute);
        for (const [f, n] of fields) into.set(f, (into.get(f) ?? 0) + n);
      }
      this.#o.onError?.(err);
    }
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }
}
