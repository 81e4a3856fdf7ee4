/**
 * The fast path's crossings (route-isolate.ts, "Batching"): calls of one route that take the
 * host thread and arrive in the same tick cross into its isolate together, in one applySync of
 * run() or runMany(), interrupted by isolated-vm after SYNC_BUDGET_MS. A crossing takes as many
 * calls as fit in 80% of that budget at the CPU time per call of the previous one.
 */
import type ivm from "isolated-vm";
import { SLOW_MS, SYNC_BUDGET_MS } from "./fast-path.ts";
import { errorMessage } from "./function-source.ts";
import type { RunFn, RunManyFn } from "./route-loader.ts";

/** Joins the calls of a runMany crossing; never appears raw in JSON text (control characters are
 * always escaped). */
const SEPARATOR = "\u0000";
/** Calls per crossing, at most; fewer when the CPU time per call of the last crossing says more
 * would not fit in SYNC_BUDGET_MS with room to spare (batchSize). */
const MAX_BATCH = 16;

export type CrossResult =
  /** elapsed, cpuMs: the crossing's time and the isolate's CPU time in it, per call. */
  | { kind: "raw"; raw: string; elapsed: number; cpuMs: number }
  | { kind: "retry" }
  | { kind: "error"; error: unknown };

/** What a crossing needs of its route's isolate. */
export interface CrossingIsolate {
  run(): ivm.Reference<RunFn> | null;
  runMany(): ivm.Reference<RunManyFn> | null;
  /** The isolate's CPU time so far, in ns. */
  cpuTime(): bigint;
  gone(): boolean;
  timeoutMs: number;
  /** A crossing overran the budget after `cpuMs` of the isolate's CPU: off the fast path it goes. */
  overran(cpuMs: number): void;
}

interface Batch {
  slots: number[];
  jsons: string[];
  runMap: boolean;
  done: Array<(result: CrossResult) => void>;
}

export class FastCrossing {
  readonly #isolate: CrossingIsolate;
  #batch: Batch | null = null;
  /** The isolate's CPU time per call in the last crossing (SLOW_MS until there is one). */
  #callMs = SLOW_MS;

  constructor(isolate: CrossingIsolate) {
    this.#isolate = isolate;
  }

  /** Calls that fit in one crossing: at most 80% of SYNC_BUDGET_MS at the CPU time per call of
   * the last one (a call that earned the fast path took at most SLOW_MS: 8 of those). */
  batchSize(): number {
    return Math.max(
      1,
      Math.min(MAX_BATCH, Math.floor((0.8 * SYNC_BUDGET_MS) / Math.max(this.#callMs, 0.01))),
    );
  }

  /** Queue a call; calls queued in the same tick cross into the isolate together. */
  enqueue(slot: number, json: string, runMap: boolean): Promise<CrossResult> {
    return new Promise((resolve) => {
      let batch = this.#batch;
      if (batch === null || batch.slots.length >= this.batchSize()) {
        batch = { slots: [], jsons: [], runMap, done: [] };
        this.#batch = batch;
        const mine = batch;
        queueMicrotask(() => this.#flush(mine));
      }
      batch.slots.push(slot);
      batch.jsons.push(json);
      batch.done.push(resolve);
    });
  }

  #flush(batch: Batch): void {
    if (this.#batch === batch) this.#batch = null;
    const results = this.cross(batch.slots, batch.jsons, batch.runMap);
    for (let i = 0; i < results.length; i++) batch.done[i]?.(results[i] as CrossResult);
  }

  /** One host-thread crossing for these calls. */
  cross(slots: readonly number[], jsons: readonly string[], runMap: boolean): CrossResult[] {
    const n = slots.length;
    const isolate = this.#isolate;
    const options = { timeout: Math.min(SYNC_BUDGET_MS, isolate.timeoutMs) };
    const t0 = performance.now();
    const cpu0 = isolate.cpuTime();
    let raws: string[];
    try {
      const run = isolate.run();
      const runMany = isolate.runMany();
      if (run === null || runMany === null) throw new Error("The isolate is not ready");
      if (n === 1) {
        raws = [run.applySync(undefined, [slots[0] ?? 0, jsons[0] ?? "", runMap, true], options)];
      } else {
        const joined = jsons.join(SEPARATOR);
        raws = runMany
          .applySync(undefined, [String.fromCharCode(...slots), joined, runMap], options)
          .split(SEPARATOR);
      }
    } catch (error) {
      if (/timed out/i.test(errorMessage(error)) && !isolate.gone()) {
        // Too slow to run on the host thread: from now on this key runs on the isolate's own
        // thread; run these events again there, under the real deadlines.
        isolate.overran(Number(isolate.cpuTime() - cpu0) / 1e6);
        return Array.from({ length: n }, () => ({ kind: "retry" }));
      }
      return Array.from({ length: n }, () => ({ kind: "error", error }));
    }
    const elapsed = (performance.now() - t0) / n;
    const cpuMs = Number(isolate.cpuTime() - cpu0) / 1e6 / n;
    this.#callMs = cpuMs;
    return raws.map((raw) => ({ kind: "raw", raw, elapsed, cpuMs }));
  }
}
