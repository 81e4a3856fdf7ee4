/**
 * RouteIsolate: one isolated-vm isolate (one context) for one route version key, and the run of
 * a route's filter and map in it.
 *
 * Contract of one `execute(eventJson)`:
 * - Inputs: the event as a JSON string (copied into the isolate as a string primitive and parsed
 *   there; each step gets its own copy, so the map never sees the filter's mutations: see
 *   isolate-runtime.ts; Sandbox.runRoute takes it from the caller or serialises each event object
 *   once for all the routes of its walk); the route's filter and map sources, fixed for the life
 *   of this object. Nothing else crosses into the isolate: no Reference, Callback or host object
 *   is ever reachable from user code.
 * - Output: `RouteRun`, or RETRY when the isolate died before this call ran (the pool then retries
 *   on a fresh isolate; user functions are pure, so running them again is harmless). With `raw`
 *   (the sandbox process), a call that ran and has no load error to add answers with the isolate's
 *   envelope as text (RawRun, envelope.ts) instead, for the gateway to read.
 *   filter: null when the route has no filter. map: null when there is no map or the filter did
 *   not pass (returned falsy, or failed). value: the filter's truthiness, or the map's return value
 *   copied back as JSON. logs: per step, console.log/info/warn/error/debug/trace lines, at most
 *   MAX_LOG_LINES of MAX_LOG_CHARS chars each, then "[… n more lines]". Logs of a step that timed
 *   out or ran out of memory are lost with its isolate.
 *   durationMs: wall clock of the crossing measured in the host (sub-millisecond); when both steps
 *   ran it is split in proportion to the isolate's own millisecond measures (evenly below 2 ms).
 *   For a step that timed out: the time from its start to the deadline check.
 * - Crossings: one host→isolate call per event (run filter, then map, inside the isolate).
 *   It returns synchronously in the isolate unless user code returned a promise (on the fast path
 *   below, that costs a second call to collect the promise).
 * - Execution mode: a call normally runs on the isolate's own thread (`apply`: 10–100 µs of
 *   thread hand-off on a small VM), so a slow or looping function never blocks the host event
 *   loop. A key whose last PROMOTE_AFTER × 2^backoffs runs each took <= SLOW_MS switches to
 *   `applySync` on the host thread (a few µs of overhead), with isolated-vm interrupting it after
 *   SYNC_BUDGET_MS: then the isolate is rebuilt, the event runs again off-thread under the real
 *   deadlines, and the key gets the most backoffs (MAX_BACKOFFS: a streak of 20,480 fast runs to
 *   earn the fast path back), or one more when the isolate's CPU time shows that the process was
 *   descheduled rather than the code slow. A fast-path run slower than SLOW_MS (a GC pause may
 *   do that) moves the key back off-thread with one more backoff; FORGIVE_AFTER fast runs on the
 *   fast path take one away. Backoffs are kept by the pool across rebuilds of the key's isolate.
 *   "Slower" means both the run's own clock in the isolate and the isolate's CPU time per call of
 *   its crossing say so (a machine busy with other processes slows the clock, not the CPU time).
 *   The decisions are FastPath's (fast-path.ts).
 *   So the host thread is never blocked for more than SYNC_BUDGET_MS, and blocks longer than
 *   SLOW_MS get exponentially rarer for a key that keeps having them. Once a key has earned the
 *   fast path, its new calls wait for its off-thread calls still running (a host-thread call would
 *   block until the isolate's thread is free) rather than going off-thread themselves, which a
 *   steady stream of calls would otherwise keep doing for ever.
 * - Batching: fast-path calls for one key that arrive in the same tick (the walker walks several
 *   events at once; pipelined callers), or that the sandbox process hands over together
 *   (executeMany: the calls for one route read from its stream at once, with no promise per call),
 *   cross together as one string of JSONs in one applySync; the isolate runs them one after
 *   another and answers with one string of envelopes. A crossing takes as many calls as fit in
 *   80% of SYNC_BUDGET_MS at the CPU time per call measured in the previous one (8 of SLOW_MS
 *   for the first), up to MAX_BATCH, so a batch of runs that each earned the fast path fits the
 *   host-thread budget; if a batch overruns it, the key is demoted as above and every call of
 *   the batch runs again off-thread. durationMs of a batched call is the batch's crossing time
 *   divided by its size.
 * - Limits: `timeoutMs` per step, including awaited work: the isolate publishes which step runs
 *   and since when in a SharedArrayBuffer, a host timer checks it, and on expiry the isolate is
 *   disposed (killing a busy loop or abandoning a promise that never settles); isolated-vm's own
 *   `timeout` (steps × timeoutMs + slack) is a backstop for when the host event loop is busy.
 *   `memoryLimitMb` heap per isolate. `maxOutputBytes` of UTF-8 JSON from map.
 *   `maxConcurrent` calls in the isolate at once; others wait in FIFO order.
 *   Per route: `RouteFunctions.limits` {timeoutMs?, memoryLimitMb?} may lower the deadline and
 *   the heap of one route; the Sandbox's own values are the caps (a larger value is clamped to
 *   them, an absent or invalid one means the cap; memory is at least 8 MB). The limits are part
 *   of an isolate's identity: a route whose limits change gets a new isolate, like new code.
 * - Failure codes (StepResult.error.code):
 *   HG_ERR_SANDBOX_SYNTAX   the source does not compile, imports something, or does not export a
 *                           function (position in the user's source in the message);
 *   HG_ERR_SANDBOX_THROW    user code threw (any value) at load or run, or its promise rejected;
 *   HG_ERR_SANDBOX_TIMEOUT  the step did not finish within timeoutMs (also load-time top-level code);
 *   HG_ERR_SANDBOX_MEMORY   the isolate hit its heap limit;
 *   HG_ERR_SANDBOX_OUTPUT   map returned undefined, something not JSON-serialisable (function,
 *                           symbol, BigInt, cycle), more than maxOutputBytes, or arrays/objects
 *                           nested more than MAX_OUTPUT_DEPTH levels deep.
 *   After TIMEOUT or MEMORY the isolate is gone; the next call for the key builds a new one.
 *   A load failure of TIMEOUT/MEMORY (top-level module code) is reported on the route's first step.
 */
import ivm from "isolated-vm";
import { type Envelope, envelopeMs, failed, type RawRun, runOf } from "./envelope.ts";
import { guardProcessExit } from "./exit-guard.ts";
import { type BackoffStore, FastPath, SLOW_MS, SYNC_BUDGET_MS } from "./fast-path.ts";
import {
  errorMessage,
  type PreparedSource,
  positionProblem,
  prepareFunctionSource,
} from "./function-source.ts";
import { isolateRuntime } from "./isolate-runtime.ts";
import { hookgateLibrary } from "./isolate-stdlib.ts";
import type { RouteRun, SandboxErrorCode, StepError } from "./types.ts";

export const MAX_LOG_LINES = 50;
export const MAX_LOG_CHARS = 1000;
/** Deepest nesting of arrays/objects in a map's output: the host (templates, delivery log) walks
 * outputs recursively on a stack that may be smaller than the isolate's. */
export const MAX_OUTPUT_DEPTH = 128;

export interface RouteLimits {
  timeoutMs: number;
  memoryLimitMb: number;
  maxConcurrent: number;
  maxOutputBytes: number;
}

export const RETRY: unique symbol = Symbol("retry");

type Step = "filter" | "map";
type Death = "timeout" | "memory" | "disposed" | "internal";

const FILES: Record<Step, string> = { filter: "filter.js", map: "map.js" };
const RUNTIME_SOURCE = `"use strict";((runtime, library) => (shared, config) => runtime(shared, config, library()))(${isolateRuntime.toString()}, ${hookgateLibrary.toString()})`;
const PHASE_STEP: Record<number, Step> = { 1: "filter", 2: "map" };
/** What one Intl object is counted as outside the heap (measured: ~27 KB of RSS per
 * DateTimeFormat, none of it in V8's figures). */
const OFF_HEAP_COST_KIB = 32;
/** Phase of a call the runtime has finished (isolate-runtime.ts). */
const DONE = 3;

type Outcome =
  | { kind: "value"; value: unknown }
  | { kind: "error"; error: unknown; phase: number }
  | { kind: "deadline"; phase: number };

type RunFn = (slot: number, json: string, runMap: boolean, hold: boolean) => string;
/** run() for several calls at once: slots as char codes, JSONs and answers joined by SEPARATOR. */
type RunManyFn = (slots: string, jsons: string, runMap: boolean) => string;
/** Never appears raw in JSON text (control characters are always escaped). */
const SEPARATOR = "\u0000";
/** Calls per fast-path crossing, at most; fewer when the calls' CPU time measured in the last
 * crossing says more would not fit in SYNC_BUDGET_MS with room to spare (batchSize). */
const MAX_BATCH = 16;
type BatchResult =
  /** elapsed, cpuMs: the crossing's time and the isolate's CPU time in it, per call. */
  | { kind: "raw"; raw: string; elapsed: number; cpuMs: number }
  | { kind: "retry" }
  | { kind: "error"; error: unknown };
interface Batch {
  slots: number[];
  jsons: string[];
  runMap: boolean;
  done: Array<(result: BatchResult) => void>;
}
type CollectFn = (slot: number) => string;
/** What run() returns when it held a promise back for collect() (see isolate-runtime.ts). */
const HELD = "held";

export class RouteIsolate {
  readonly key: string;
  readonly filterSource: string | null;
  readonly mapSource: string | null;
  /** Calls that hold or wait for a slot; the pool only evicts an isolate when this is 0. */
  refs = 0;
  /** When the pool last handed it out (its clock): the least recently used idle one goes first. */
  lastUsed = 0;

  readonly #limits: RouteLimits;
  get limits(): RouteLimits {
    return this.#limits;
  }
  readonly #onDeath: (entry: RouteIsolate) => void;
  readonly #isolate: ivm.Isolate;
  readonly #shared: SharedArrayBuffer;
  readonly #starts: Float64Array;
  readonly #phase: Int32Array;
  readonly #offHeap: Int32Array;
  readonly #ready: Promise<void>;
  readonly #free: number[] = [];
  readonly #waiters: Array<(slot: number | null) => void> = [];
  #run: ivm.Reference<RunFn> | null = null;
  #runMany: ivm.Reference<RunManyFn> | null = null;
  #batch: Batch | null = null;
  #collect: ivm.Reference<CollectFn> | null = null;
  #loadErrors: Partial<Record<Step, StepError>> = {};
  #fatal: { step: Step; error: StepError } | null = null;
  #death: Death | null = null;
  /** See "Execution mode" in the header comment. */
  readonly #fast: FastPath;
  /** The isolate's CPU time per call in the last fast-path crossing (SLOW_MS until there is one). */
  #callMs = SLOW_MS;
  #asyncInFlight = 0;
  /** Settled when no off-thread call is left: fast-path calls wait for that, since a host-thread
   * call made while the isolate's own thread runs one would block until it is done (and calls
   * that went off-thread meanwhile would keep the key there as long as calls keep coming). */
  #drained: PromiseWithResolvers<void> | null = null;

  constructor(
    key: string,
    filterSource: string | null,
    mapSource: string | null,
    limits: RouteLimits,
    backoffs: BackoffStore,
    onDeath: (entry: RouteIsolate) => void,
  ) {
    this.#fast = new FastPath(key, backoffs);
    this.key = key;
    this.filterSource = filterSource;
    this.mapSource = mapSource;
    this.#limits = limits;
    this.#onDeath = onDeath;
    guardProcessExit();
    this.#isolate = new ivm.Isolate({ memoryLimit: limits.memoryLimitMb });
    const slots = limits.maxConcurrent;
    // starts (2 per slot), phase (1 per slot), then the KiB charged outside the heap.
    this.#shared = new SharedArrayBuffer(slots * 16 + slots * 4 + 4);
    this.#starts = new Float64Array(this.#shared, 0, slots * 2);
    this.#phase = new Int32Array(this.#shared, slots * 16, slots);
    this.#offHeap = new Int32Array(this.#shared, slots * 20, 1);
    for (let i = slots - 1; i >= 0; i--) this.#free.push(i);
    this.#ready = this.#load().catch((err: unknown) => {
      if (this.#fatal !== null || this.#death === "disposed") return;
      const first: Step = this.filterSource !== null ? "filter" : "map";
      this.#fatal = { step: first, error: this.#deathError(first, errorMessage(err)) };
      this.kill("internal");
    });
  }

  /** Whether the memory charged outside its heap (isolate-runtime.ts: Intl objects) says this
   * isolate should be rebuilt once idle: half its budget, so a route that keeps such objects
   * across calls is recycled before it reaches it. */
  wantsRecycling(): boolean {
    return (this.#offHeap[0] ?? 0) * 2 >= this.#limits.memoryLimitMb * 1024;
  }

  /** V8's heap statistics of this isolate, or null once it is gone. */
  heapStatistics(): ivm.HeapStatistics | null {
    if (this.#death !== null || this.#isolate.isDisposed) return null;
    try {
      return this.#isolate.getHeapStatisticsSync();
    } catch {
      return null;
    }
  }

  /** Dispose the isolate (idempotent). Calls waiting for a slot get RETRY. */
  kill(cause: Death): void {
    if (this.#death !== null) return;
    this.#death = cause;
    for (const wake of this.#waiters.splice(0)) wake(null);
    this.#drained?.resolve();
    this.#drained = null;
    try {
      if (!this.#isolate.isDisposed) this.#isolate.dispose();
    } catch {
      // already gone
    }
    this.#onDeath(this);
  }

  /** With `raw`, a call that ran and has no load error to add answers with its envelope as the
   * isolate wrote it (RawRun), for the gateway to read (process mode: see protocol.ts). */
  async execute(json: string, raw = false): Promise<RouteRun | RawRun | typeof RETRY> {
    const slot = this.#free.pop() ?? (this.#death === null ? await this.#wait() : null);
    if (slot === null) return RETRY;
    try {
      if (this.#run === null) await this.#ready;
      if (this.#fatal !== null) return this.#fatalRun(this.#fatal);
      if (this.#death !== null || this.#run === null || this.#collect === null) return RETRY;
      const filterError = this.#loadErrors.filter;
      const mapError = this.#loadErrors.map;
      if (this.filterSource !== null && filterError !== undefined) {
        return { filter: failed(filterError, 0), map: null };
      }
      if (this.filterSource === null && mapError !== undefined)
        return { filter: null, map: failed(mapError, 0) };
      return await this.#call(this.#run, slot, json, mapError, raw);
    } finally {
      this.#release(slot);
    }
  }

  /**
   * execute() for several events at once (the sandbox process hands over together the calls for
   * one route that it read from its stream at once). On the fast path they cross in batches of up
   * to MAX_BATCH with no promise per call, unless user code returned one; otherwise, and for what
   * the free slots cannot take, each goes through execute().
   */
  async executeMany(
    jsons: readonly string[],
    raw: boolean,
  ): Promise<Array<RouteRun | RawRun | typeof RETRY>> {
    const out = new Array<RouteRun | RawRun | typeof RETRY>(jsons.length);
    const later: Array<Promise<void>> = [];
    const mapError = this.#loadErrors.map;
    const runMap = this.mapSource !== null && mapError === undefined;
    let i = 0;
    while (i < jsons.length) {
      if (this.#fast.on && this.#asyncInFlight > 0) await this.#whenDrained();
      if (!this.#fastReady()) break;
      const n = Math.min(this.#batchSize(), jsons.length - i, this.#free.length);
      if (n === 0) break;
      const slots = this.#free.splice(this.#free.length - n, n);
      const sentAt = Date.now();
      for (const slot of slots) this.#begin(slot, sentAt);
      const t0 = performance.now();
      const results = this.#cross(slots, jsons.slice(i, i + n), runMap);
      for (let k = 0; k < n; k++) {
        const slot = slots[k] as number;
        const at = i + k;
        const done = this.#afterCross(results[k] as BatchResult, slot, sentAt, t0, mapError, raw);
        if (done instanceof Promise) {
          later.push(
            done.then(
              (r) => {
                out[at] = r;
                this.#release(slot);
              },
              (error: unknown) => {
                this.#release(slot);
                throw error;
              },
            ),
          );
        } else {
          out[at] = done;
          this.#release(slot);
        }
      }
      i += n;
    }
    for (; i < jsons.length; i++) {
      const at = i;
      later.push(
        this.execute(jsons[at] as string, raw).then((r) => {
          out[at] = r;
        }),
      );
    }
    if (later.length > 0) await Promise.all(later);
    return out;
  }

  /** Calls that fit in one fast-path crossing: at most 80% of SYNC_BUDGET_MS at the CPU time per
   * call of the last one (a call that earned the fast path took at most SLOW_MS: 8 of those). */
  #batchSize(): number {
    return Math.max(
      1,
      Math.min(MAX_BATCH, Math.floor((0.8 * SYNC_BUDGET_MS) / Math.max(this.#callMs, 0.01))),
    );
  }

  /** Whether a call can take the fast path now: loaded, alive, fast, and its first step loaded. */
  #fastReady(): boolean {
    return (
      this.#fast.on &&
      this.#asyncInFlight === 0 &&
      this.#runMany !== null &&
      this.#fatal === null &&
      this.#death === null &&
      this.#loadErrors[this.filterSource !== null ? "filter" : "map"] === undefined
    );
  }

  /** A slot is free again: to the first call waiting for one, if any. */
  #release(slot: number): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next(slot);
    else this.#free.push(slot);
  }

  /** A call is about to cross: its progress in the shared buffer starts afresh. */
  #begin(slot: number, sentAt: number): void {
    this.#phase[slot] = 0;
    this.#starts[slot * 2] = sentAt;
    this.#starts[slot * 2 + 1] = sentAt;
  }

  /** Queue a fast-path call; calls queued in the same tick cross into the isolate together. */
  #enqueue(slot: number, json: string, runMap: boolean): Promise<BatchResult> {
    return new Promise((resolve) => {
      let batch = this.#batch;
      if (batch === null || batch.slots.length >= this.#batchSize()) {
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
    const results = this.#cross(batch.slots, batch.jsons, batch.runMap);
    for (let i = 0; i < results.length; i++) batch.done[i]?.(results[i] as BatchResult);
  }

  /** One host-thread crossing for a batch of fast-path calls (see "Batching" in the header). */
  #cross(slots: readonly number[], jsons: readonly string[], runMap: boolean): BatchResult[] {
    const n = slots.length;
    const options = { timeout: Math.min(SYNC_BUDGET_MS, this.#limits.timeoutMs) };
    const t0 = performance.now();
    const cpu0 = this.#cpuTime();
    let raws: string[];
    try {
      if (this.#run === null || this.#runMany === null) throw new Error("The isolate is not ready");
      if (n === 1) {
        raws = [this.#run.applySync(undefined, [slots[0] ?? 0, jsons[0] ?? "", runMap, true], options)];
      } else {
        const joined = jsons.join(SEPARATOR);
        raws = this.#runMany
          .applySync(undefined, [String.fromCharCode(...slots), joined, runMap], options)
          .split(SEPARATOR);
      }
    } catch (error) {
      if (/timed out/i.test(errorMessage(error)) && !this.#isolate.isDisposed) {
        // Too slow to run on the host thread: from now on this key runs on the isolate's own
        // thread; run these events again there, under the real deadlines.
        this.#fast.overran(Number(this.#cpuTime() - cpu0) / 1e6);
        this.kill("timeout");
        return Array.from({ length: n }, () => ({ kind: "retry" }));
      }
      return Array.from({ length: n }, () => ({ kind: "error", error }));
    }
    const elapsed = (performance.now() - t0) / n;
    const cpuMs = Number(this.#cpuTime() - cpu0) / 1e6 / n;
    this.#callMs = cpuMs;
    return raws.map((raw) => ({ kind: "raw", raw, elapsed, cpuMs }));
  }

  /** The isolate's CPU time so far, in ns (0n once it is gone). */
  #cpuTime(): bigint {
    try {
      return this.#isolate.cpuTime;
    } catch {
      return 0n;
    }
  }

  #wait(): Promise<number | null> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async #call(
    run: ivm.Reference<RunFn>,
    slot: number,
    json: string,
    mapError: StepError | undefined,
    raw: boolean,
  ): Promise<RouteRun | RawRun | typeof RETRY> {
    const runMap = this.mapSource !== null && mapError === undefined;
    const sentAt = Date.now();
    this.#begin(slot, sentAt);
    const t0 = performance.now();
    if (this.#fast.on && this.#asyncInFlight > 0) await this.#whenDrained();
    if (this.#fast.on && this.#asyncInFlight === 0) {
      // Fast path: usually the whole run finishes inside applySync and no timer is needed.
      const r = await this.#enqueue(slot, json, runMap);
      return this.#afterCross(r, slot, sentAt, t0, mapError, raw);
    }
    this.#asyncInFlight++;
    const pending = run.apply(undefined, [slot, json, runMap, false], {
      timeout: this.#limits.timeoutMs * this.#steps(runMap) + 50,
      result: { promise: true },
    });
    pending.then(
      () => this.#asyncDone(),
      () => this.#asyncDone(),
    );
    return this.#settle(pending, slot, sentAt, t0, mapError, raw, false);
  }

  #whenDrained(): Promise<void> {
    this.#drained ??= Promise.withResolvers<void>();
    return this.#drained.promise;
  }

  #asyncDone(): void {
    if (--this.#asyncInFlight > 0 || this.#drained === null) return;
    this.#drained.resolve();
    this.#drained = null;
  }

  #steps(runMap: boolean): number {
    return (this.filterSource !== null ? 1 : 0) + (runMap ? 1 : 0);
  }

  /** One call's part of a fast-path crossing: its answer, RETRY, or (user code returned a promise,
   * or the crossing failed) its outcome, still to wait for under the deadline. */
  #afterCross(
    r: BatchResult,
    slot: number,
    sentAt: number,
    t0: number,
    mapError: StepError | undefined,
    raw: boolean,
  ): RouteRun | RawRun | typeof RETRY | Promise<RouteRun | RawRun | typeof RETRY> {
    if (r.kind === "retry") return RETRY;
    if (r.kind === "raw" && r.raw !== HELD) {
      return this.#fromEnvelope(r.raw, r.elapsed, mapError, true, raw, r.cpuMs);
    }
    let pending: Promise<unknown>;
    if (r.kind === "error" || this.#collect === null)
      pending = Promise.reject(r.kind === "error" ? r.error : new Error("The isolate is not ready"));
    else {
      try {
        pending = this.#collect.applySync(undefined, [slot], { result: { promise: true } });
      } catch (error) {
        pending = Promise.reject(error);
      }
    }
    return this.#settle(pending, slot, sentAt, t0, mapError, raw, true);
  }

  /** The outcome of a call that is still running, under its deadline (watched through the
   * isolate's progress in the shared buffer), as a RouteRun. */
  async #settle(
    pending: Promise<unknown>,
    slot: number,
    sentAt: number,
    t0: number,
    mapError: StepError | undefined,
    raw: boolean,
    sync: boolean,
  ): Promise<RouteRun | RawRun | typeof RETRY> {
    const { timeoutMs } = this.#limits;
    const steps = this.#steps(this.mapSource !== null && mapError === undefined);
    const phase = this.#phase;
    const starts = this.#starts;
    // A call that has not started after this long is stuck behind something no deadline covers.
    const stuckMs = timeoutMs * steps * (this.#limits.maxConcurrent + 1) + 1000;
    const outcome = await new Promise<Outcome>((resolve) => {
      let timer: NodeJS.Timeout;
      let settled = false;
      const expire = (ph: number): void => {
        settled = true;
        resolve({ kind: "deadline", phase: ph });
        this.kill("timeout");
      };
      const check = (): void => {
        if (settled) return;
        const ph = phase[slot] ?? 0;
        const now = Date.now();
        if (ph === 1 || ph === 2) {
          const deadline = (starts[slot * 2 + ph - 1] ?? now) + timeoutMs;
          if (now >= deadline) {
            expire(ph);
            return;
          }
          timer = setTimeout(check, deadline - now + 1);
        } else if (ph === DONE) {
          // The runtime finished the call, so its answer is already on its way: one deadline
          // after the last step started it must have arrived. If not, whatever the user's
          // objects did to it (issue 16, item 1), the call fails alone, as a timeout. An answer
          // queued behind this timer (a busy host) is let through first: setImmediate runs after
          // the event loop's I/O.
          const deadline = Math.max(starts[slot * 2] ?? now, starts[slot * 2 + 1] ?? now) + timeoutMs;
          if (now < deadline) timer = setTimeout(check, deadline - now + 1);
          else setImmediate(() => settled || expire(DONE));
        } else if (ph === 0 && now - sentAt > stuckMs) {
          expire(0);
        } else {
          timer = setTimeout(check, timeoutMs);
        }
      };
      timer = setTimeout(check, timeoutMs);
      pending.then(
        (value: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ kind: "value", value });
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ kind: "error", error, phase: phase[slot] ?? 0 });
        },
      );
    });
    const elapsed = performance.now() - t0;

    if (outcome.kind === "value") return this.#fromEnvelope(outcome.value, elapsed, mapError, sync, raw);
    if (outcome.kind === "deadline") return this.#timedOut(slot, outcome.phase, "");

    const message = errorMessage(outcome.error);
    const step = PHASE_STEP[outcome.phase];
    if (/timed out/i.test(message)) {
      // isolated-vm's backstop timeout fired before the host timer.
      this.kill("timeout");
      return this.#timedOut(slot, outcome.phase, "");
    }
    if (this.#isolate.isDisposed) {
      if (this.#death === null) this.kill("memory");
      if (this.#death === "disposed") throw new Error("The sandbox was disposed while the route was running");
      // Not started yet, or finished but its answer was lost: run it again on a fresh isolate.
      if (step === undefined) return RETRY;
      if (this.#death === "memory") return this.#stepFailed(slot, step, this.#memoryError(step));
      return this.#timedOut(
        slot,
        outcome.phase,
        " (another event for this route timed out while this one was pending)",
      );
    }
    this.kill("internal");
    return this.#stepFailed(slot, step ?? "filter", {
      code: "HG_ERR_SANDBOX_THROW",
      message: `The sandbox failed: ${message}`,
    });
  }

  #fromEnvelope(
    text: unknown,
    elapsed: number,
    mapError: StepError | undefined,
    sync: boolean,
    raw: boolean,
    cpuMs = Number.POSITIVE_INFINITY,
  ): RouteRun | RawRun {
    if (raw && mapError === undefined && typeof text === "string") {
      const ms = envelopeMs(text);
      if (ms !== null) {
        this.#fast.ran(ms, sync, cpuMs);
        return { envelope: text, elapsedMs: elapsed };
      }
    }
    let env: Envelope;
    try {
      env = JSON.parse(String(text)) as Envelope;
    } catch {
      env = { x: "unreadable result" };
    }
    const head = env.h;
    if (head === undefined) {
      this.kill("internal");
      const first: Step = this.filterSource !== null ? "filter" : "map";
      const run: RouteRun = { filter: null, map: null };
      run[first] = failed(
        { code: "HG_ERR_SANDBOX_THROW", message: `The sandbox failed: ${env.x ?? ""}` },
        elapsed,
      );
      return run;
    }
    this.#fast.ran((head.f?.ms ?? 0) + (head.m?.ms ?? 0), sync, cpuMs);
    return runOf(head, env.v, elapsed, mapError);
  }

  /** The step running in `slot` (phase 1 filter, 2 map, 0 not started, 3 finished but its
   * answer never came) missed its deadline. */
  #timedOut(slot: number, phase: number, why: string): RouteRun {
    const step = PHASE_STEP[phase] ?? (this.filterSource !== null ? "filter" : "map");
    const message =
      phase === 0
        ? "The route's isolate did not respond in time"
        : phase === DONE
          ? `The route's result did not settle within ${this.#limits.timeoutMs} ms`
          : `The ${step} did not finish within ${this.#limits.timeoutMs} ms${why}`;
    return this.#stepFailed(slot, step, { code: "HG_ERR_SANDBOX_TIMEOUT", message });
  }

  #stepFailed(slot: number, step: Step, error: StepError): RouteRun {
    const now = Date.now();
    const filterStart = this.#starts[slot * 2] ?? now;
    const mapStart = this.#starts[slot * 2 + 1] ?? now;
    if (step === "filter" || this.filterSource === null) {
      const run: RouteRun = { filter: null, map: null };
      run[step] = failed(error, Math.max(0, now - (step === "filter" ? filterStart : mapStart)));
      return run;
    }
    // The map failed, so the filter had passed; its logs died with the isolate.
    return {
      filter: { ok: true, value: true, logs: [], durationMs: Math.max(0, mapStart - filterStart) },
      map: failed(error, Math.max(0, now - mapStart)),
    };
  }

  #fatalRun(fatal: { step: Step; error: StepError }): RouteRun {
    const first: Step = this.filterSource !== null ? "filter" : "map";
    const message =
      fatal.step === first ? fatal.error.message : `The map failed to load: ${fatal.error.message}`;
    const run: RouteRun = { filter: null, map: null };
    run[first] = failed({ code: fatal.error.code, message }, 0);
    return run;
  }

  #memoryError(step: Step): StepError {
    return {
      code: "HG_ERR_SANDBOX_MEMORY",
      message: `The ${step} ran out of memory (limit ${this.#limits.memoryLimitMb} MB)`,
    };
  }

  #deathError(step: Step, message: string): StepError {
    if (this.#death === "memory" || /memory limit/i.test(message)) return this.#memoryError(step);
    return { code: "HG_ERR_SANDBOX_THROW", message: `The sandbox failed to load the ${step}: ${message}` };
  }

  // ---- loading ---------------------------------------------------------------------------

  async #load(): Promise<void> {
    const prepared: Partial<Record<Step, PreparedSource>> = {};
    for (const step of ["filter", "map"] as const) {
      const source = step === "filter" ? this.filterSource : this.mapSource;
      if (source === null) continue;
      const result = prepareFunctionSource(source);
      if (result.ok) prepared[step] = result.source;
      else this.#loadErrors[step] = syntaxError(result.problem);
    }
    const isolate = this.#isolate;
    const context = await isolate.createContext();
    const script = await isolate.compileScript(RUNTIME_SOURCE, { filename: "hookgate-runtime.js" });
    const factory = (await script.run(context, { reference: true })) as ivm.Reference<unknown>;
    script.release();
    const config = JSON.stringify({
      slots: this.#limits.maxConcurrent,
      maxOutputBytes: this.#limits.maxOutputBytes,
      maxOutputDepth: MAX_OUTPUT_DEPTH,
      maxLogLines: MAX_LOG_LINES,
      maxLogChars: MAX_LOG_CHARS,
      files: { [FILES.filter]: prepared.filter?.lineOffset ?? 0, [FILES.map]: prepared.map?.lineOffset ?? 0 },
      offHeapBudgetKiB: this.#limits.memoryLimitMb * 1024,
      offHeapCostKiB: OFF_HEAP_COST_KIB,
    });
    const api = (await factory.apply(
      undefined,
      [new ivm.ExternalCopy(this.#shared).copyInto({ release: true }), config],
      {
        result: { reference: true },
      },
    )) as ivm.Reference<{ install: unknown; run: unknown; runMany: unknown; collect: unknown }>;
    const install = (await api.get("install", { reference: true })) as ivm.Reference<unknown>;
    const run = (await api.get("run", { reference: true })) as ivm.Reference<RunFn>;
    const collect = (await api.get("collect", { reference: true })) as ivm.Reference<CollectFn>;
    const runMany = (await api.get("runMany", { reference: true })) as ivm.Reference<RunManyFn>;

    const namespaces: Partial<Record<Step, ivm.Reference<unknown>>> = {};
    for (const step of ["filter", "map"] as const) {
      const source = prepared[step];
      if (source === undefined) continue;
      const ns = await this.#loadModule(step, source, context);
      if (this.#fatal !== null) return;
      if (ns !== null) namespaces[step] = ns;
    }
    const problems = (await install.apply(
      undefined,
      [namespaces.filter?.derefInto(), namespaces.map?.derefInto()],
      { timeout: this.#limits.timeoutMs },
    )) as string;
    if (problems !== "") {
      const parsed = JSON.parse(problems) as Partial<
        Record<Step, { code: SandboxErrorCode; message: string }>
      >;
      for (const step of ["filter", "map"] as const) {
        const p = parsed[step];
        if (p !== undefined) this.#loadErrors[step] = p;
      }
    }
    this.#collect = collect;
    this.#runMany = runMany;
    this.#run = run;
  }

  /** Compile, link and evaluate one user module; null (with a load error recorded) on failure. */
  async #loadModule(
    step: Step,
    source: PreparedSource,
    context: ivm.Context,
  ): Promise<ivm.Reference<unknown> | null> {
    const isolate = this.#isolate;
    let mod: ivm.Module;
    try {
      mod = await isolate.compileModule(source.code, { filename: FILES[step] });
    } catch (err) {
      this.#loadErrors[step] = syntaxError(positionProblem(errorMessage(err), source));
      return null;
    }
    try {
      await mod.instantiate(context, () => {
        throw new Error("Imports are not allowed");
      });
    } catch {
      this.#loadErrors[step] = { code: "HG_ERR_SANDBOX_SYNTAX", message: "Imports are not allowed" };
      return null;
    }
    const timeoutMs = this.#limits.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    // isolated-vm's own `timeout` counts the module's running time. The host timer is only a
    // backstop: it also counts waiting for a thread of isolated-vm's pool, which many isolates
    // loading at once (a cold start under load) can stretch well past one deadline.
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), Math.max(timeoutMs * 5, timeoutMs + 2000));
    });
    try {
      const r = await Promise.race([
        mod.evaluate({ timeout: timeoutMs }).then(() => "ok" as const),
        deadline,
      ]);
      if (r === "deadline") throw new Error("timed out");
    } catch (err) {
      const message = errorMessage(err);
      if (/timed out/i.test(message)) {
        this.#fatal = {
          step,
          error: {
            code: "HG_ERR_SANDBOX_TIMEOUT",
            message: `The ${step}'s top-level code did not finish within ${timeoutMs} ms`,
          },
        };
        this.kill("timeout");
      } else if (isolate.isDisposed) {
        this.#fatal = { step, error: this.#memoryError(step) };
        if (this.#death === null) this.kill("memory");
      } else {
        this.#loadErrors[step] = {
          code: "HG_ERR_SANDBOX_THROW",
          message: describeLoadThrow(err, source, FILES[step]),
        };
      }
      return null;
    } finally {
      clearTimeout(timer);
    }
    return mod.namespace;
  }
}

function syntaxError(problem: { message: string; line: number; column: number }): StepError {
  return {
    code: "HG_ERR_SANDBOX_SYNTAX",
    message: `${problem.message} (line ${problem.line}, column ${problem.column})`,
  };
}

/** A top-level throw, as isolated-vm hands it over: only the message and the user-file frame. */
function describeLoadThrow(err: unknown, source: PreparedSource, file: string): string {
  if (!(err instanceof Error))
    return `Uncaught ${typeof err === "string" ? JSON.stringify(err) : String(err)}`;
  const text = err.message ? `${err.name}: ${err.message}` : err.name;
  const frame = new RegExp(`${file.replace(".", "\\.")}:(\\d+):(\\d+)`).exec(err.stack ?? "");
  if (frame === null) return text;
  return `${text} (line ${Math.max(1, Number(frame[1]) - source.lineOffset)}, column ${frame[2]})`;
}
