/**
 * The calls in flight to a sandbox process, by id: set when written, deleted when answered.
 *
 * Not a Map, on purpose. A Map that takes a new key and loses an old one for every call (tens of
 * thousands a second) is rehashed over and over, and V8 links each obsolete table to its
 * successor (for live iterators). An obsolete table that had lived long enough to be in the old
 * generation then keeps the new one, and every call, promise and answer reachable from it, alive
 * through the young-generation collections, which then promote megabytes per scavenge (visible
 * as GC time per call in bench/sandbox.ts). A null-prototype object keyed by the id has no such
 * link.
 */
export class PendingCalls<T> {
  #byId: Record<number, T> = Object.create(null) as Record<number, T>;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(id: number): T | undefined {
    return this.#byId[id];
  }

  set(id: number, value: T): void {
    if (!(id in this.#byId)) this.#size++;
    this.#byId[id] = value;
  }

  delete(id: number): boolean {
    if (!(id in this.#byId)) return false;
    delete this.#byId[id];
    this.#size--;
    return true;
  }

  values(): T[] {
    return Object.values(this.#byId);
  }

  clear(): void {
    this.#byId = Object.create(null) as Record<number, T>;
    this.#size = 0;
  }
}
