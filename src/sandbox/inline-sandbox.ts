/**
 * InlineSandbox: the pool of route isolates in the current process (one per route version key),
 * LRU-evicted beyond maxIsolates, rebuilt transparently after a timeout or out-of-memory. The
 * `inline` mode of Sandbox runs it in the gateway's own process; the `process` mode runs it in a
 * child process (sandbox-child.ts). See sandbox.ts for where secrets live, route-isolate.ts for the
 * contract of a single run and isolate-runtime.ts for what user code can see.
 *
 * Process-wide side effect: the first isolate created installs a process "exit" hook that runs
 * two garbage collections, working around an isolated-vm crash at exit (see exit-guard.ts).
 */
import type { RawRun } from "./envelope.ts";
import type { BackoffStore } from "./fast-path.ts";
import { present } from "./function-source.ts";
import { type RouteLimits, resolveOptions, routeLimits } from "./limits.ts";
import { RETRY, RouteIsolate } from "./route-isolate.ts";
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
  /** By key. Their `lastUsed` stamps order them for eviction: moving a key to the end of the Map
   * on every call would churn the Map (see pending-calls.ts for what that costs). */
  readonly #entries = new Map<string, RouteIsolate>();
  #clock = 0;
  /** Replaced by new code under the same key while still running: disposed when idle. */
  readonly #retired = new Set<RouteIsolate>();
  /** Backoffs of keys whose host-thread fast path went wrong (see route-isolate.ts), kept across
   * rebuilds of their isolates (bounded: oldest forgotten first). */
  readonly #backoffs = new Map<string, number>();
  readonly #backoffStore: BackoffStore = {
    backoffs: (key) => this.#backoffs.get(key) ?? 0,
    setBackoffs: (key, backoffs) => {
      this.#backoffs.delete(key);
      if (backoffs === 0) return;
      this.#backoffs.set(key, backoffs);
      if (this.#backoffs.size > this.#maxIsolates * 2) {
        for (const old of this.#backoffs.keys()) {
          this.#backoffs.delete(old);
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
   * rejects for user-code failures (see route-isolate.ts for the contract of one run).
   */
  run(fns: RouteFunctions, json: string): Promise<RouteRun> {
    return this.#run(fns, json, false) as Promise<RouteRun>;
  }

  /**
   * run() of one route on several events, one answer each, in order; a call that ran cleanly
   * answers with its envelope as text (the sandbox process forwards it to the gateway as it is:
   * see envelope.ts). The calls take the route's isolate together (RouteIsolate.executeMany).
   */
  async runManyRaw(fns: RouteFunctions, jsons: readonly string[]): Promise<Array<RouteRun | RawRun>> {
    const filter = present(fns.filter);
    const map = present(fns.map);
    if ((filter === null && map === null) || jsons.length === 1) {
      return Promise.all(jsons.map((json) => this.#run(fns, json, true)));
    }
    if (this.#disposed) throw new Error("The sandbox is disposed");
    const entry = this.#acquire(fns.key, filter, map, this.#routeLimits(fns.limits));
    let outs: Array<RouteRun | RawRun | typeof RETRY>;
    try {
      outs = await entry.executeMany(jsons, true);
    } finally {
      this.#releaseEntry(entry);
    }
    if (!outs.includes(RETRY)) return outs as Array<RouteRun | RawRun>;
    // The isolate died under some of them: those start again, one by one.
    return Promise.all(
      outs.map((out, i) => (out === RETRY ? this.#run(fns, jsons[i] as string, true) : out)),
    );
  }

  async #run(fns: RouteFunctions, json: string, raw: boolean): Promise<RouteRun | RawRun> {
    const filter = present(fns.filter);
    const map = present(fns.map);
    if (filter === null && map === null) return { filter: null, map: null };
    const limits = this.#routeLimits(fns.limits);
    for (let attempt = 1; ; attempt++) {
      if (this.#disposed) throw new Error("The sandbox is disposed");
      const entry = this.#acquire(fns.key, filter, map, limits);
      let out: RouteRun | RawRun | typeof RETRY;
      try {
        out = await entry.execute(json, raw);
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
      if (
        entry.filterSource === filter &&
        entry.mapSource === map &&
        entry.limits.timeoutMs === limits.timeoutMs &&
        entry.limits.memoryLimitMb === limits.memoryLimitMb
      ) {
        entry.lastUsed = ++this.#clock;
        entry.refs++;
        return entry;
      }
      this.#entries.delete(key);
      // Same key, different code or limits: never run stale code or under stale limits.
      if (entry.refs === 0) entry.kill("disposed");
      else this.#retired.add(entry);
    }
    entry = new RouteIsolate(key, filter, map, limits, this.#backoffStore, (dead) => {
      if (this.#entries.get(dead.key) === dead) this.#entries.delete(dead.key);
      this.#retired.delete(dead);
    });
    this.#entries.set(key, entry);
    entry.lastUsed = ++this.#clock;
    entry.refs++;
    this.#evict();
    return entry;
  }

  #releaseEntry(entry: RouteIsolate): void {
    entry.refs--;
    if (entry.refs === 0 && (this.#retired.has(entry) || entry.wantsRecycling())) entry.kill("disposed");
    if (this.#entries.size > this.#maxIsolates) this.#evict();
  }

  /** Dispose least recently used idle isolates until at most maxIsolates remain (busy ones stay). */
  #evict(): void {
    if (this.#entries.size <= this.#maxIsolates) return;
    const idle = [...this.#entries.values()].filter((e) => e.refs === 0);
    idle.sort((a, b) => a.lastUsed - b.lastUsed);
    for (const entry of idle) {
      if (this.#entries.size <= this.#maxIsolates) return;
      entry.kill("disposed");
    }
  }
}

/** The pool's limits from the options, validated (RangeError on a bad value). */
