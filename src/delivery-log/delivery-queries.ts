import type { Redis } from "../shared/redis.ts";
import type { RedisKeys } from "../shared/redis-keys.ts";
import type { AttemptRecord, Delivery, DeliveryStatus } from "./delivery-record.ts";

export interface ListQuery {
  routeId?: string;
  status?: DeliveryStatus;
  /** Only deliveries created before this (ms), for paging backwards in time. */
  beforeMs?: number;
  sinceMs?: number;
  limit: number;
}

/** Reading delivery records: one, several, a page of an index, a route's ids over time. */
export class DeliveryQueries {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
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
    ...(r.event ? { event: r.event } : {}),
    ...(attempts ? { attempts: attempts.map((a) => JSON.parse(a) as AttemptRecord) } : {}),
  };
}
