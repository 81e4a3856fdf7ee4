/**
 * What the isolate tells the host about its calls, without a crossing: a SharedArrayBuffer the
 * runtime (isolate-runtime.ts) writes and the host's deadline timers read. Per slot: when the
 * filter and the map started (ms since the epoch) and the phase (0 not started, 1 filter, 2 map,
 * 3 done); then the KiB charged outside the heap (Intl objects), for the whole isolate.
 */
export type Step = "filter" | "map";

/** Phase of a call the runtime has finished. */
export const DONE = 3;
export const PHASE_STEP: Readonly<Record<number, Step>> = { 1: "filter", 2: "map" };

export class CallProgress {
  readonly shared: SharedArrayBuffer;
  readonly #starts: Float64Array;
  readonly #phase: Int32Array;
  readonly #offHeap: Int32Array;

  constructor(slots: number) {
    // starts (2 per slot), phase (1 per slot), then the KiB charged outside the heap.
    this.shared = new SharedArrayBuffer(slots * 16 + slots * 4 + 4);
    this.#starts = new Float64Array(this.shared, 0, slots * 2);
    this.#phase = new Int32Array(this.shared, slots * 16, slots);
    this.#offHeap = new Int32Array(this.shared, slots * 20, 1);
  }

  /** A call is about to cross: its progress starts afresh. */
  begin(slot: number, sentAt: number): void {
    this.#phase[slot] = 0;
    this.#starts[slot * 2] = sentAt;
    this.#starts[slot * 2 + 1] = sentAt;
  }

  phase(slot: number): number {
    return this.#phase[slot] ?? 0;
  }

  /** When the step of `phase` (1 filter, 2 map) started, or `fallback`. */
  startOf(slot: number, phase: 1 | 2, fallback: number): number {
    return this.#starts[slot * 2 + phase - 1] ?? fallback;
  }

  offHeapKiB(): number {
    return this.#offHeap[0] ?? 0;
  }
}
