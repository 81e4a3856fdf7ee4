/**
 * Waiting work in lanes, handed out in turn: the lane served moves to the back, and a lane with
 * `cap` items out waits until one is done. One lane (route) with many costly items thus never
 * holds every worker, and each lane's items keep their order.
 */
export class LaneQueue<T> {
  readonly #cap: number;
  /** Waiting items by lane; the Map's order is the turn order. */
  readonly #waiting = new Map<string, T[]>();
  readonly #out = new Map<string, number>();

  constructor(cap: number) {
    this.#cap = Math.max(1, cap);
  }

  push(lane: string, item: T): void {
    const items = this.#waiting.get(lane);
    if (items) items.push(item);
    else this.#waiting.set(lane, [item]);
  }

  /** The next item of the first lane in turn that is under its cap; it counts as out until done. */
  take(): { lane: string; item: T } | undefined {
    for (const [lane, items] of this.#waiting) {
      if ((this.#out.get(lane) ?? 0) >= this.#cap) continue;
      const item = items.shift() as T;
      this.#waiting.delete(lane);
      if (items.length > 0) this.#waiting.set(lane, items);
      this.#out.set(lane, (this.#out.get(lane) ?? 0) + 1);
      return { lane, item };
    }
    return undefined;
  }

  done(lane: string): void {
    const left = (this.#out.get(lane) ?? 1) - 1;
    if (left > 0) this.#out.set(lane, left);
    else this.#out.delete(lane);
  }

  /** Every waiting item, removed (for a shutdown that fails them). */
  drain(): T[] {
    const all = [...this.#waiting.values()].flat();
    this.#waiting.clear();
    return all;
  }
}
