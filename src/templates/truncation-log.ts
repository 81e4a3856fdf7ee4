import type { Truncation } from "./types.ts";

/**
 * Collects truncations while a message is fitted. A value cut twice (first to its own limit, then
 * again to fit a total) is reported once: the smaller limit with the length it started with.
 */
export class TruncationLog {
  readonly #byPath = new Map<string, Truncation>();

  record(path: string, limit: number, originalLength: number): void {
    const seen = this.#byPath.get(path);
    if (seen) {
      seen.limit = Math.min(seen.limit, limit);
      return;
    }
    this.#byPath.set(path, { path, limit, originalLength });
  }

  /** Records `from` → `to` when the value got shorter; returns `to`. */
  cut(path: string, limit: number, from: string, to: string): string {
    if (to !== from) this.record(path, limit, from.length);
    return to;
  }

  list(): Truncation[] {
    return [...this.#byPath.values()];
  }
}

/** Joins truncation lists from successive steps, reporting a path cut twice once (see record). */
export function mergeTruncations(...lists: Truncation[][]): Truncation[] {
  const log = new TruncationLog();
  for (const list of lists) for (const cut of list) log.record(cut.path, cut.limit, cut.originalLength);
  return log.list();
}
