/*
 * Pure arithmetic of the per-minute counters: which minute a moment falls in, the hash fields a
 * count goes to, and how minute rows are summed into a series and totals. No I/O here.
 */

export const MINUTE_MS = 60_000;
/** Minute buckets are kept this long (then Redis expires them): the longest `since` allowed. */
export const STATS_RETENTION_MS = 2 * 24 * 60 * MINUTE_MS;

/** What is counted per route and minute. `in`: deliveries made for the route (events it took). */
export const COUNTERS = ["in", "delivered", "failed", "retried"] as const;
export type Counter = (typeof COUNTERS)[number];

/**
 * Upper bounds (ms) of the attempt-latency buckets; an attempt slower than the last falls in an
 * open bucket past it. Coarse on purpose: a handful of fields per route and minute.
 */
export const LATENCY_BOUNDS_MS = [25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000] as const;

/** The field of the sum over all routes, written alongside each route's. */
export const ALL_ROUTES = "*";

export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

export const counterField = (routeId: string, counter: Counter): string => `${routeId}|${counter}`;

/** Index of the latency bucket of an attempt that took `ms` (LATENCY_BOUNDS_MS.length: slower). */
export function latencyBucket(ms: number): number {
  const i = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
  return i === -1 ? LATENCY_BOUNDS_MS.length : i;
}

export const latencyField = (routeId: string, bucket: number): string => `${routeId}|lat${bucket}`;

/** The fields read for one route (or ALL_ROUTES), in a fixed order: counters, then latency buckets. */
export function fieldsOf(routeId: string): string[] {
  return [
    ...COUNTERS.map((c) => counterField(routeId, c)),
    ...Array.from({ length: LATENCY_BOUNDS_MS.length + 1 }, (_, i) => latencyField(routeId, i)),
  ];
}

/** One minute's values of fieldsOf(), as Redis answers them (null: nothing counted). */
export type MinuteRow = readonly (string | null)[];

export interface SeriesPoint {
  at: string;
  in: number;
  delivered: number;
  failed: number;
  retried: number;
}

export interface StatsAnswer {
  totals: {
    in: number;
    delivered: number;
    failed: number;
    retrying: number;
    latencyMs: { p50: number | null; p99: number | null };
  };
  series: SeriesPoint[];
}

/** The minutes [since, until] covers, oldest first. */
export function minutesBetween(sinceMs: number, untilMs: number): number[] {
  const out: number[] = [];
  for (let m = minuteOf(sinceMs); m <= untilMs; m += MINUTE_MS) out.push(m);
  return out;
}

/**
 * Sums minute rows into points of `stepMs` (a multiple of a minute) starting at `since` floored
 * to the step, and totals over the whole range. Latency percentiles are the upper bound of the
 * bucket holding them (null past the last bound, or with no attempts).
 */
export function summarize(
  minutes: readonly number[],
  rows: readonly MinuteRow[],
  sinceMs: number,
  untilMs: number,
  stepMs: number,
): StatsAnswer {
  const start = Math.floor(sinceMs / stepMs) * stepMs;
  const series: SeriesPoint[] = [];
  for (let at = start; at <= untilMs; at += stepMs) {
    series.push({ at: new Date(at).toISOString(), in: 0, delivered: 0, failed: 0, retried: 0 });
  }
  const latency = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  const totals = { in: 0, delivered: 0, failed: 0, retrying: 0 };
  minutes.forEach((minute, i) => {
    const row = rows[i] ?? [];
    const n = (j: number) => Number(row[j] ?? 0) || 0;
    const point = series[Math.floor((minute - start) / stepMs)];
    if (!point) return;
    COUNTERS.forEach((c, j) => {
      point[c] += n(j);
    });
    totals.in += n(0);
    totals.delivered += n(1);
    totals.failed += n(2);
    totals.retrying += n(3);
    for (let b = 0; b < latency.length; b++) latency[b] = (latency[b] ?? 0) + n(COUNTERS.length + b);
  });
  return {
    totals: { ...totals, latencyMs: { p50: percentile(latency, 0.5), p99: percentile(latency, 0.99) } },
    series,
  };
}

function percentile(buckets: readonly number[], q: number): number | null {
  const count = buckets.reduce((a, b) => a + b, 0);
  if (count === 0) return null;
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let b = 0; b < buckets.length; b++) {
    seen += buckets[b] ?? 0;
    if (seen >= rank) return LATENCY_BOUNDS_MS[b] ?? null;
  }
  return null;
}
