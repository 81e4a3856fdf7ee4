/**
 * WHERE SECRETS LIVE, AND WHY USER CODE RUNS IN THIS PROCESS (issue 7; an open point).
 *
 * This process holds secrets: the admin token, every route's signing secret (whsec_) and
 * credential headers, the Redis URL (and its password, if any), in memory and in process.env.
 * isolated-vm's own advice is to run untrusted code in a process that holds none. We do not (yet);
 * this is the argument that the in-process design is as safe against everything short of a V8 or
 * isolated-vm memory-safety bug, and what a bug would expose.
 *
 * What user code can reach. Each route version runs in its own V8 isolate: a separate heap with
 * its own globals; no object of the host heap can be referenced from it at all. Into it cross only
 * (a) strings: the event JSON (copied, parsed inside), the runtime's config; (b) numbers and
 * booleans (slot, runMap); and (c) one SharedArrayBuffer of progress counters (phase and start
 * times), captured in the runtime's closure and never reachable from user code. Out of it cross
 * only strings (JSON envelopes). No ivm.Reference, Callback, ExternalCopy or host function is ever
 * put where user code can reach it: the runtime's install/run/runMany/collect are handed to the
 * host as references, the user modules get nothing but their one argument (a fresh JSON.parse),
 * and instantiate() refuses every import. isolated-vm's own `console` global (the only global it
 * installs, a host callback) is deleted and replaced by a capturing console written in the
 * isolate. So there is no function that, called from user code, runs in the host: no path to
 * process, require, the file system, the network, Redis or the route store, and nothing that
 * holds a secret, by construction rather than by filtering (test/sandbox/attacks.ts probes it).
 *
 * What user code can do to its own isolate. Its globals and every reachable builtin, prototype
 * and hidden intrinsic are deep-frozen before user code loads (isolate-runtime.ts); WebAssembly,
 * SharedArrayBuffer, WeakRef, FinalizationRegistry and Atomics.wait are removed. Pollution cannot
 * reach the next event of the same route, and different routes never share an isolate. Resource
 * abuse ends in a per-route error (deadline, heap limit, output limit), never in the host.
 *
 * What an escape would expose. A bug in V8 or isolated-vm that turns into arbitrary read/write or
 * code execution in this process would expose everything above: all signing secrets, credential
 * headers, the admin token and the Redis connection (and through it every stored route and
 * delivery). Isolates are not a security boundary against such bugs in V8's threat model; they
 * are against ordinary JavaScript. Our exposure is therefore the rate of exploitable V8 bugs
 * reachable from plain ECMAScript without WebAssembly, shared memory or any host API, in the V8
 * version of the Node we ship. Keeping Node patched is part of the security of this design.
 *
 * What a child-process design changes and costs. Isolates would live in one or more worker
 * processes started with an empty environment, holding only route sources and events (which the
 * functions see anyway), talking JSON over a pipe; an escape then yields only that worker's
 * events and sources, and the OS (seccomp/no network/unprivileged user) can limit it further.
 * Costs: an IPC round trip per walk (a pipe write/read of the event: ~10-30 µs, well above the
 * ~10-16 µs a whole sandboxed route costs now, so events must be batched per round trip to stay
 * within 3x of native), a second process's memory (~50 MB plus the isolates, which move rather
 * than grow), supervision (restart on crash, re-sending in-flight events, the exit crash of
 * exit-guard.ts moving there), and the deadline watchdog moving with the isolates. The interface
 * is already narrow enough to move as is: runRoute(RouteFunctions, event JSON) → RouteRun.
 *
 * ----
 *
 * Sandbox: the pool of route isolates (one per route version key), LRU-evicted beyond
 * maxIsolates, rebuilt transparently after a timeout or out-of-memory. See run-route.ts for the
 * contract of a single run and isolate-runtime.ts for what user code can see.
 *
 * Process-wide side effect: the first isolate created installs a process "exit" hook that runs
 * two garbage collections, working around an isolated-vm crash at exit (see exit-guard.ts).
 */
import type { HookgateEvent } from "../events/event-schema.ts";
import { RETRY, RouteIsolate, type RouteLimits, type SyncPolicy } from "./run-route.ts";
import type {
  RouteFunctions,
  RouteLimitsIn,
  RouteRun,
  SandboxHeapStatistics,
  SandboxOptions,
} from "./types.ts";

const MAX_ATTEMPTS = 3;

export class Sandbox {
  readonly #limits: RouteLimits;
  readonly #maxIsolates: number;
  /** In least-recently-used-first order: a use moves the key to the end. */
  readonly #entries = new Map<string, RouteIsolate>();
  /** Replaced by new code under the same key while still running: disposed when idle. */
  readonly #retired = new Set<RouteIsolate>();
  /** Keys once too slow for the host-thread fast path (bounded: oldest forgotten first). */
  readonly #slowKeys = new Set<string>();
  readonly #policy: SyncPolicy = {
    isSlow: (key) => this.#slowKeys.has(key),
    markSlow: (key) => {
      this.#slowKeys.add(key);
      if (this.#slowKeys.size > this.#maxIsolates * 2) {
        for (const old of this.#slowKeys) {
          this.#slowKeys.delete(old);
          break;
        }
      }
    },
  };
  #disposed = false;
  /** Events are never mutated after they are walked, so their JSON can be cached by identity. */
  readonly #json = new WeakMap<object, string>();

  constructor(options: SandboxOptions) {
    const { timeoutMs, memoryLimitMb } = options;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
      throw new RangeError("timeoutMs must be a positive number");
    if (!(memoryLimitMb > 0)) throw new RangeError("memoryLimitMb must be a positive number");
    this.#limits = {
      timeoutMs,
      memoryLimitMb: Math.max(8, Math.ceil(memoryLimitMb)),
      maxConcurrent: positiveInt(options.maxConcurrentPerIsolate, 16, "maxConcurrentPerIsolate"),
      maxOutputBytes: positiveInt(options.maxOutputBytes, 1024 * 1024, "maxOutputBytes"),
    };
    this.#maxIsolates = positiveInt(options.maxIsolates, 1000, "maxIsolates");
  }

  /**
   * Run the route's filter, then (if it passed) its map, on one event. Never rejects for
   * user-code failures. `eventJson`, when the caller already holds it, must be
   * JSON.stringify(event) (it is what crosses into the isolate); otherwise the event is
   * serialised once per event object and reused for every route of the walk.
   */
  async runRoute(fns: RouteFunctions, event: HookgateEvent, eventJson?: string): Promise<RouteRun> {
    const filter = present(fns.filter);
    const map = present(fns.map);
    if (filter === null && map === null) return { filter: null, map: null };
    const json = eventJson ?? this.#jsonOf(event);
    const limits = this.#routeLimits(fns.limits);
    for (let attempt = 1; ; attempt++) {
      if (this.#disposed) throw new Error("The sandbox is disposed");
      const entry = this.#acquire(fns.key, filter, map, limits);
      let out: RouteRun | typeof RETRY;
      try {
        out = await entry.execute(json);
      } finally {
        this.#releaseEntry(entry);
      }
      if (out !== RETRY) return out;
      if (attempt >= MAX_ATTEMPTS) {
        const step = filter !== null ? "filter" : "map";
        const run: RouteRun = { filter: null, map: null };
        run[step] = {
          ok: false,
          logs: [],
          durationMs: 0,
          error: {
            code: "HG_ERR_SANDBOX_TIMEOUT",
            message: "The route's isolate was reset repeatedly; try again",
          },
        };
        return run;
      }
    }
  }

  /** JSON.stringify(event), once per event object (the walk runs every route on the same one). */
  #jsonOf(event: HookgateEvent): string {
    let json = this.#json.get(event);
    if (json === undefined) {
      json = JSON.stringify(event);
      this.#json.set(event, json);
    }
    return json;
  }

  stats(): { isolates: number } {
    return { isolates: this.#entries.size };
  }

  /** Heap use summed over the live isolates (V8's own figures; walks every isolate: for
   * diagnostics and benchmarks, not for a hot path). */
  heapStatistics(): SandboxHeapStatistics {
    const out: SandboxHeapStatistics = {
      isolates: 0,
      usedHeapBytes: 0,
      totalHeapBytes: 0,
      externalBytes: 0,
      heapLimitBytes: 0,
    };
    for (const entry of this.#entries.values()) {
      const h = entry.heapStatistics();
      if (h === null) continue;
      out.isolates++;
      out.usedHeapBytes += h.used_heap_size;
      out.totalHeapBytes += h.total_heap_size;
      out.externalBytes += h.externally_allocated_size;
      out.heapLimitBytes += h.heap_size_limit;
    }
    return out;
  }

  dispose(): void {
    this.#disposed = true;
    for (const entry of [...this.#entries.values(), ...this.#retired]) entry.kill("disposed");
    this.#entries.clear();
    this.#retired.clear();
  }

  /** The route's limits clamped to the Sandbox's (the caps); the shared object when unchanged. */
  #routeLimits(wanted: RouteLimitsIn | undefined): RouteLimits {
    const caps = this.#limits;
    if (wanted === undefined) return caps;
    const timeoutMs = clamp(wanted.timeoutMs, 1, caps.timeoutMs);
    const memoryLimitMb = Math.ceil(clamp(wanted.memoryLimitMb, 8, caps.memoryLimitMb));
    if (timeoutMs === caps.timeoutMs && memoryLimitMb === caps.memoryLimitMb) return caps;
    return { ...caps, timeoutMs, memoryLimitMb };
  }

  #acquire(key: string, filter: string | null, map: string | null, limits: RouteLimits): RouteIsolate {
    let entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#entries.delete(key);
      if (
        entry.filterSource === filter &&
        entry.mapSource === map &&
        entry.limits.timeoutMs === limits.timeoutMs &&
        entry.limits.memoryLimitMb === limits.memoryLimitMb
      ) {
        this.#entries.set(key, entry);
        entry.refs++;
        return entry;
      }
      // Same key, different code or limits: never run stale code or under stale limits.
      if (entry.refs === 0) entry.kill("disposed");
      else this.#retired.add(entry);
    }
    entry = new RouteIsolate(key, filter, map, limits, this.#policy, (dead) => {
      if (this.#entries.get(dead.key) === dead) this.#entries.delete(dead.key);
      this.#retired.delete(dead);
    });
    this.#entries.set(key, entry);
    entry.refs++;
    this.#evict();
    return entry;
  }

  #releaseEntry(entry: RouteIsolate): void {
    entry.refs--;
    if (entry.refs === 0 && this.#retired.has(entry)) entry.kill("disposed");
    if (this.#entries.size > this.#maxIsolates) this.#evict();
  }

  /** Dispose least recently used idle isolates until at most maxIsolates remain (busy ones stay). */
  #evict(): void {
    for (const entry of this.#entries.values()) {
      if (this.#entries.size <= this.#maxIsolates) return;
      if (entry.refs === 0) entry.kill("disposed");
    }
  }
}

/** value within [min, max]; max when value is absent, not finite or not positive. */
function clamp(value: number | undefined, min: number, max: number): number {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return max;
  return Math.min(max, Math.max(min, value));
}

function present(source: string | null | undefined): string | null {
  return typeof source === "string" && /\S/.test(source) ? source : null;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
