/**
 * InlineSandbox: the pool of route isolates in the current process (one per route version key),
 * LRU-evicted beyond maxIsolates, rebuilt transparently after a timeout or out-of-memory. The
 * `inline` mode of Sandbox runs it in the gateway's own process; the `process` mode runs it in a
 * child process (sandbox-process.ts). See sandbox.ts for where secrets live, run-route.ts for the
 * contract of a single run and isolate-runtime.ts for what user code can see.
 *
 * Process-wide side effect: the first isolate created installs a process "exit" hook that runs
 * two garbage collections, working around an isolated-vm crash at exit (see exit-guard.ts).
 */
import { RETRY, RouteIsolate, type RouteLimits, type SyncPolicy } from "./run-route.ts";
import type {
  RouteFunctions,
  RouteLimitsIn,
  RouteRun,
  SandboxHeapStatistics,
  SandboxOptions,
} from "./types.ts";

const MAX_ATTEMPTS = 3;

export class InlineSandbox {
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

  constructor(options: SandboxOptions) {
    const { limits, maxIsolates } = resolveOptions(options);
    this.#limits = limits;
    this.#maxIsolates = maxIsolates;
  }

  /**
   * Run the route's filter, then (if it passed) its map, on one event given as its JSON. Never
   * rejects for user-code failures (see run-route.ts for the contract of one run).
   */
  async run(fns: RouteFunctions, json: string): Promise<RouteRun> {
    const filter = present(fns.filter);
    const map = present(fns.map);
    if (filter === null && map === null) return { filter: null, map: null };
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

  #routeLimits(wanted: RouteLimitsIn | undefined): RouteLimits {
    return routeLimits(this.#limits, wanted);
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

/** The pool's limits from the options, validated (RangeError on a bad value). */
export function resolveOptions(options: SandboxOptions): { limits: RouteLimits; maxIsolates: number } {
  const { timeoutMs, memoryLimitMb } = options;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
    throw new RangeError("timeoutMs must be a positive number");
  if (!(memoryLimitMb > 0)) throw new RangeError("memoryLimitMb must be a positive number");
  return {
    limits: {
      timeoutMs,
      memoryLimitMb: Math.max(8, Math.ceil(memoryLimitMb)),
      maxConcurrent: positiveInt(options.maxConcurrentPerIsolate, 16, "maxConcurrentPerIsolate"),
      maxOutputBytes: positiveInt(options.maxOutputBytes, 1024 * 1024, "maxOutputBytes"),
    },
    maxIsolates: positiveInt(options.maxIsolates, 1000, "maxIsolates"),
  };
}

/** A route's limits clamped to the pool's (the caps); the shared object when unchanged. */
export function routeLimits(caps: RouteLimits, wanted: RouteLimitsIn | undefined): RouteLimits {
  if (wanted === undefined) return caps;
  const timeoutMs = clamp(wanted.timeoutMs, 1, caps.timeoutMs);
  const memoryLimitMb = Math.ceil(clamp(wanted.memoryLimitMb, 8, caps.memoryLimitMb));
  if (timeoutMs === caps.timeoutMs && memoryLimitMb === caps.memoryLimitMb) return caps;
  return { ...caps, timeoutMs, memoryLimitMb };
}

/** value within [min, max]; max when value is absent, not finite or not positive. */
function clamp(value: number | undefined, min: number, max: number): number {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return max;
  return Math.min(max, Math.max(min, value));
}

export function present(source: string | null | undefined): string | null {
  return typeof source === "string" && /\S/.test(source) ? source : null;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
