/**
 * Gathers work items from concurrent callers and hands them to `flush` together, so that N
 * concurrent walks cost one Redis round trip instead of N. Each caller's promise settles when
 * the batch holding its item has been flushed (or failed).
 */
export class Batcher<T> {
  readonly #flush: (items: T[]) => Promise<void>;
  readonly #maxBatch: number;
  #pending: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  #draining = false;

  constructor(flush: (items: T[]) => Promise<void>, maxBatch = 500) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
  }

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#draining) {
        this.#draining = true;
        // Let the other callers of this tick add theirs before the first flush.
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxBatch);
      try {
        await this.#flush(batch.map((b) => b.item));
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.#draining = false;
  }
}
