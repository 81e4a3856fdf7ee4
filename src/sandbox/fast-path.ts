/**
 * Whether a route version's calls run on the host thread (applySync: the fast path) or on its
 * isolate's own thread: pure decisions, one FastPath per isolate, fed with each run's measures.
 * See "Execution mode" in route-isolate.ts.
 *
 * A key takes the fast path after PROMOTE_AFTER × 2^backoffs runs in a row that took at most
 * SLOW_MS. A slower run on the fast path sends it back with one more backoff (up to
 * MAX_BACKOFFS); a crossing that overran SYNC_BUDGET_MS (isolated-vm interrupted it) with the
 * most, unless the isolate's CPU time shows that the process was descheduled rather than the code
 * slow; FORGIVE_AFTER fast runs on the fast path take one away. Backoffs outlive the isolate:
 * the pool keeps them per key (BackoffStore), so a rebuilt isolate does not start afresh.
 */

/** The pool's memory of backoffs per key, across rebuilds of a key's isolate. */
export interface BackoffStore {
  backoffs(key: string): number;
  setBackoffs(key: string, backoffs: number): void;
}

const PROMOTE_AFTER = 20;
const FORGIVE_AFTER = 10_000;
export const MAX_BACKOFFS = 10;
/** A run is fast when it took at most this long (by the isolate's clock, in whole milliseconds:
 * under 2 ms; or by its CPU time). */
export const SLOW_MS = 1;
/** A fast-path crossing is interrupted after this long (then its calls run again off-thread). */
export const SYNC_BUDGET_MS = 10;

export class FastPath {
  readonly #key: string;
  readonly #store: BackoffStore;
  #on = false;
  #streak = 0;
  #backoffs: number;
  #fastRuns = 0;

  constructor(key: string, store: BackoffStore) {
    this.#key = key;
    this.#store = store;
    this.#backoffs = store.backoffs(key);
  }

  /** Whether calls take the fast path now. */
  get on(): boolean {
    return this.#on;
  }

  /**
   * A run ended. isolateMs: its own clock in the isolate (whole milliseconds); onFastPath:
   * whether it ran there; cpuMs: on the fast path, the isolate's CPU time per call of its
   * crossing. A run is slow only when both measures say so: a busy machine slows the clock, not
   * the CPU time, and a garbage collection that fell into one call of a batch is shared out.
   */
  ran(isolateMs: number, onFastPath: boolean, cpuMs = Number.POSITIVE_INFINITY): void {
    const fast = isolateMs <= SLOW_MS || cpuMs <= SLOW_MS;
    if (onFastPath) {
      if (fast) {
        if (++this.#fastRuns >= FORGIVE_AFTER) {
          this.#fastRuns = 0;
          this.#setBackoffs(this.#backoffs - 1);
        }
        return;
      }
      this.#off(this.#backoffs + 1);
      return;
    }
    this.#streak = fast ? this.#streak + 1 : 0;
    if (this.#streak >= PROMOTE_AFTER * 2 ** this.#backoffs) this.#on = true;
  }

  /** A fast-path crossing overran SYNC_BUDGET_MS, using cpuMs of the isolate's CPU time. */
  overran(cpuMs: number): void {
    this.#off(cpuMs >= SYNC_BUDGET_MS / 2 ? MAX_BACKOFFS : this.#backoffs + 1);
  }

  #off(backoffs: number): void {
    this.#on = false;
    this.#streak = 0;
    this.#setBackoffs(backoffs);
  }

  #setBackoffs(backoffs: number): void {
    this.#backoffs = Math.max(0, Math.min(backoffs, MAX_BACKOFFS));
    this.#store.setBackoffs(this.#key, this.#backoffs);
  }
}
