/**
 * Gathers work items from concurrent callers and hands them to `flush` together, so that N
 * concurrent callers cost one Redis round trip instead of N. Each caller's promise settles when
 * the batch holding its item has been flushed (or failed), with the item's own result.
 *
 * One batch is in flight at a time; what arrives meanwhile waits for it and goes in the next, so
 * batches grow with the load instead of the round trips.
 */
export class CallBatcher<T, R> {
  readonly #flush: (items: T[]) => Promise<R[]>;
  readonly #maxBatch: number;
  #pending: { item: T; resolve: (result: R) => void; reject: (err: unknown) => void }[] = [];
  #draining = false;

  /** `flush` answers one result per item, in order. */
  constructor(flush: (items: T[]) => Promise<R[]>, maxBatch = 500) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
  }

  add(item: T): Promise<R> {
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
        const results = await this.#flush(batch.map((b) => b.item));
        for (let i = 0; i < batch.length; i++) batch[i]?.resolve(results[i] as R);
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.#draining = false;
  }
}

/** A CallBatcher whose items need no result of their own. */
export class Batcher<T> extends CallBatcher<T, void> {
  constructor(flush: (items: T[]) => Promise<void>, maxBatch = 500) {
    super(async (items) => {
      await flush(items);
      return [];
    }, maxBatch);
  }
}
