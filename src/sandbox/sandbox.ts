/**
 * Sandbox: the pool of route isolates (one per route version key), LRU-evicted beyond
 * maxIsolates, rebuilt transparently after a timeout or out-of-memory. See run-route.ts for the
 * contract of a single run and isolate-runtime.ts for what user code can see.
 *
 * Process-wide side effect: the first isolate created installs a process "exit" hook that runs
 * two garbage collections, working around an isolated-vm crash at exit (see exit-guard.ts).
 */
import type { HookgateEvent } from "../events/event-schema.ts";
import { RETRY, RouteIsolate, type RouteLimits, type SyncPolicy } from "./run-route.ts";
import type { RouteFunctions, RouteRun, SandboxOptions } from "./types.ts";

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

  /** Run the route's filter, then (if it passed) its map, on one event. Never rejects for user-code failures. */
  async runRoute(fns: RouteFunctions, event: HookgateEvent): Promise<RouteRun> {
    const filter = present(fns.filter);
    const map = present(fns.map);
    if (filter === null && map === null) return { filter: null, map: null };
    const json = JSON.stringify(event);
    for (let attempt = 1; ; attempt++) {
      if (this.#disposed) throw new Error("The sandbox is disposed");
      const entry = this.#acquire(fns.key, filter, map);
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

  dispose(): void {
    this.#disposed = true;
    for (const entry of [...this.#entries.values(), ...this.#retired]) entry.kill("disposed");
    this.#entries.clear();
    this.#retired.clear();
  }

  #acquire(key: string, filter: string | null, map: string | null): RouteIsolate {
    let entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#entries.delete(key);
      if (entry.filterSource === filter && entry.mapSource === map) {
        this.#entries.set(key, entry);
        entry.refs++;
        return entry;
      }
      // Same key, different code: a caller bug, but never run stale code.
      if (entry.refs === 0) entry.kill("disposed");
      else this.#retired.add(entry);
    }
    entry = new RouteIsolate(key, filter, map, this.#limits, this.#policy, (dead) => {
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

function present(source: string | null | undefined): string | null {
  return typeof source === "string" && /\S/.test(source) ? source : null;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
