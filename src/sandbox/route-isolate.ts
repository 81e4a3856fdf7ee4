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
 *   for the first), up to MAX_BATCH (fast-crossing.ts), so a batch of runs that each earned the fast path fits the
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
import { underDeadline } from "./call-deadline.ts";
import { CallProgress, PHASE_STEP, type Step } from "./call-progress.ts";
import { type Envelope, envelopeMs, failed, type RawRun, runOf } from "./envelope.ts";
import { guardProcessExit } from "./exit-guard.ts";
import { type CrossResult, FastCrossing } from "./fast-crossing.ts";
import { type BackoffStore, FastPath } from "./fast-path.ts";
import { errorMessage } from "./function-source.ts";
import type { RouteLimits } from "./limits.ts";
import { type CollectFn, loadRoute, type RunFn, type RunManyFn } from "./route-loader.ts";
import { failedRun, fatalRun, firstStep, memoryError, timeoutError } from "./step-errors.ts";
import type { RouteRun, StepError } from "./types.ts";

export const RETRY: unique symbol = Symbol("retry");

type Death = "timeout" | "memory" | "disposed" | "internal";

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
  readonly #progress: CallProgress;
  readonly #ready: Promise<void>;
  readonly #free: number[] = [];
  readonly #waiters: Array<(slot: number | null) => void> = [];
  #run: ivm.Reference<RunFn> | null = null;
  #runMany: ivm.Reference<RunManyFn> | null = null;
  #collect: ivm.Reference<CollectFn> | null = null;
  #loadErrors: Partial<Record<Step, StepError>> = {};
  #fatal: { step: Step; error: StepError } | null = null;
  #death: Death | null = null;
  /** See "Execution mode" in the header comment. */
  readonly #fast: FastPath;
  readonly #crossing: FastCrossing;
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
    this.#progress = new CallProgress(slots);
    this.#crossing = new FastCrossing({
      run: () => this.#run,
      runMany: () => this.#runMany,
      cpuTime: () => this.#cpuTime(),
      gone: () => this.#isolate.isDisposed,
      timeoutMs: limits.timeoutMs,
      overran: (cpuMs) => {
        this.#fast.overran(cpuMs);
        this.kill("timeout");
      },
    });
    for (let i = slots - 1; i >= 0; i--) this.#free.push(i);
    this.#ready = this.#load().catch((err: unknown) => {
      if (this.#fatal !== null || this.#death === "disposed") return;
      const first = firstStep(this.filterSource !== null);
      this.#fatal = { step: first, error: this.#deathError(first, errorMessage(err)) };
      this.kill("internal");
    });
  }

  /** Whether the memory charged outside its heap (isolate-runtime.ts: Intl objects) says this
   * isolate should be rebuilt once idle: half its budget, so a route that keeps such objects
   * across calls is recycled before it reaches it. */
  wantsRecycling(): boolean {
    return this.#progress.offHeapKiB() * 2 >= this.#limits.memoryLimitMb * 1024;
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
      if (this.#fatal !== null) return fatalRun(this.#fatal, this.filterSource !== null);
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
      const n = Math.min(this.#crossing.batchSize(), jsons.length - i, this.#free.length);
      if (n === 0) break;
      const slots = this.#free.splice(this.#free.length - n, n);
      const sentAt = Date.now();
      for (const slot of slots) this.#begin(slot, sentAt);
      const t0 = performance.now();
      const results = this.#crossing.cross(slots, jsons.slice(i, i + n), runMap);
      for (let k = 0; k < n; k++) {
        const slot = slots[k] as number;
        const at = i + k;
        const done = this.#afterCross(results[k] as CrossResult, slot, sentAt, t0, mapError, raw);
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

  #begin(slot: number, sentAt: number): void {
    this.#progress.begin(slot, sentAt);
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
      const r = await this.#crossing.enqueue(slot, json, runMap);
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
    r: CrossResult,
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
    // A call that has not started after this long is stuck behind something no deadline covers.
    const stuckMs = timeoutMs * steps * (this.#limits.maxConcurrent + 1) + 1000;
    const outcome = await underDeadline(pending, this.#progress, { slot, sentAt, timeoutMs, stuckMs }, () =>
      this.kill("timeout"),
    );
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
      if (this.#death === "memory")
        return this.#stepFailed(slot, step, memoryError(step, this.#limits.memoryLimitMb));
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
      const first = firstStep(this.filterSource !== null);
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

  /** The step running in `slot` missed its deadline (see timeoutError for the phases). */
  #timedOut(slot: number, phase: number, why: string): RouteRun {
    const { step, error } = timeoutError(phase, this.filterSource !== null, this.#limits.timeoutMs, why);
    return this.#stepFailed(slot, step, error);
  }

  #stepFailed(slot: number, step: Step, error: StepError): RouteRun {
    const now = Date.now();
    const starts = {
      filter: this.#progress.startOf(slot, 1, now),
      map: this.#progress.startOf(slot, 2, now),
      now,
    };
    return failedRun(step, error, this.filterSource !== null, starts);
  }

  #deathError(step: Step, message: string): StepError {
    if (this.#death === "memory" || /memory limit/i.test(message)) {
      return memoryError(step, this.#limits.memoryLimitMb);
    }
    return { code: "HG_ERR_SANDBOX_THROW", message: `The sandbox failed to load the ${step}: ${message}` };
  }

  async #load(): Promise<void> {
    const loaded = await loadRoute(this.#isolate, this.#progress, this.#limits, {
      filter: this.filterSource,
      map: this.mapSource,
    });
    if ("fatal" in loaded) {
      this.#fatal = loaded.fatal;
      this.kill(loaded.death);
      return;
    }
    this.#loadErrors = loaded.loadErrors;
    this.#collect = loaded.collect;
    this.#runMany = loaded.runMany;
    this.#run = loaded.run;
  }
}
