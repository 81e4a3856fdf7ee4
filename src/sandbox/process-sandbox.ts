/**
 * ProcessSandbox: the host side of Sandbox's `process` mode. The isolates live in one child
 * process (sandbox-process.ts) started with an environment holding nothing but PATH; this side
 * holds the calls in flight and supervises the child.
 *
 * - Batching: calls made in the same tick cross in one IPC message; the child answers what
 *   finished in the same turn of its event loop in one message. The channel uses Node's
 *   "advanced" (structured clone) serialisation: the event JSON strings then cross as they are,
 *   where the "json" mode escapes and re-parses each of them inside the message (64 calls in
 *   flight: ~22 µs/event against ~31 µs/event; one at a time both sit on the ~100 µs IPC round
 *   trip; bench/sandbox.ts). The price: the host's V8 deserialiser reads whatever bytes the
 *   child writes (the same deserialiser Chrome exposes to other renderer processes). What it
 *   hands on is checked: the child's runs come as one JSON string per message, parsed with
 *   JSON.parse and checked for shape (isRouteRun) before use, so a map's value can only be JSON
 *   data, as in inline mode, and an answer of the wrong shape fails its call and kills the child.
 * - Crash: when the child exits (crash, kill -9, OOM of the process), every call in flight
 *   resolves with HG_ERR_SANDBOX_CRASHED on its first step (calls are not re-run: a route that
 *   crashes the process would crash the next one too), and the next call starts a new child.
 * - Watchdog: the child sends a heartbeat every HEARTBEAT_MS while it has calls in flight. A call
 *   whose deadline (its timeout per step, times its steps, plus MARGIN_MS) has passed while the
 *   child has been silent for MARGIN_MS means its event loop is stuck: the host kills it
 *   (SIGKILL), fails the calls in flight with HG_ERR_SANDBOX_TIMEOUT and starts a new one for
 *   later calls. A child that keeps beating is doing its own deadlines (run-route.ts); calls
 *   queued behind others for the same isolate may legitimately take longer than one deadline, so
 *   a live child is only killed when a call outlives the pool's worst case (HARD_FACTOR times
 *   the deadline).
 * - Idle: the child and its channel are unref'd while no call is in flight, so an idle gateway
 *   process can exit; dispose() kills the child.
 */
import { type ChildProcess, fork } from "node:child_process";
import { resolveOptions, routeLimits } from "./inline-sandbox.ts";
import { type ChildMessage, DEBUG_FLAG, type HostMessage, isRouteRun, type RunAnswer } from "./protocol.ts";
import type { RouteLimits } from "./run-route.ts";
import type {
  RouteFunctions,
  RouteRun,
  SandboxErrorCode,
  SandboxHeapStatistics,
  SandboxOptions,
} from "./types.ts";

const ENTRY = new URL("./sandbox-process.ts", import.meta.url);
const MARGIN_MS = 1000;
/** A live child that has not answered a call after this many deadlines has lost it. */
const HARD_FACTOR = 60;
const WATCH_MS = 250;
/** A child that has not said "ready" this long after it was started is killed. */
const STARTUP_MS = 30_000;

export interface ProcessSandboxOptions extends SandboxOptions {
  /** Tests only: let the child honour debug requests (see protocol.ts). */
  debugHooks?: boolean;
}

interface Call {
  id: number;
  fns: RouteFunctions;
  json: string;
  /** First step, which carries a whole-call failure. */
  step: "filter" | "map";
  soft: number;
  hard: number;
  resolve: (run: RouteRun) => void;
  reject: (error: Error) => void;
}

interface Child {
  proc: ChildProcess;
  pending: Map<number, Call>;
  startedAt: number;
  lastHeard: number;
  ready: boolean;
  gone: boolean;
  referenced: boolean;
}

const EMPTY_HEAP: SandboxHeapStatistics = {
  isolates: 0,
  usedHeapBytes: 0,
  totalHeapBytes: 0,
  externalBytes: 0,
  heapLimitBytes: 0,
};

export class ProcessSandbox {
  readonly #options: ProcessSandboxOptions;
  readonly #limits: RouteLimits;
  #child: Child | null = null;
  #queue: Call[] = [];
  #flushScheduled = false;
  #nextId = 1;
  #timer: NodeJS.Timeout | null = null;
  #disposed = false;
  #isolates = 0;
  #heap: SandboxHeapStatistics = EMPTY_HEAP;

  constructor(options: ProcessSandboxOptions) {
    this.#limits = resolveOptions(options).limits;
    this.#options = { ...options };
  }

  run(fns: RouteFunctions, json: string): Promise<RouteRun> {
    if (this.#disposed) return Promise.reject(new Error("The sandbox is disposed"));
    const limits = routeLimits(this.#limits, fns.limits);
    const hasFilter = typeof fns.filter === "string" && /\S/.test(fns.filter);
    const hasMap = typeof fns.map === "string" && /\S/.test(fns.map);
    const deadline = limits.timeoutMs * ((hasFilter ? 1 : 0) + (hasMap ? 1 : 0));
    return new Promise<RouteRun>((resolve, reject) => {
      const now = Date.now();
      this.#queue.push({
        id: this.#nextId++,
        fns,
        json,
        step: hasFilter ? "filter" : "map",
        soft: now + deadline + MARGIN_MS,
        hard: now + (deadline + MARGIN_MS) * HARD_FACTOR,
        resolve,
        reject,
      });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  stats(): { isolates: number } {
    return { isolates: this.#isolates };
  }

  /** The child's figures as of its last report (it attaches them at most once a second). */
  heapStatistics(): SandboxHeapStatistics {
    return { ...this.#heap };
  }

  /** The pid of the current sandbox process, if one is running. */
  childPid(): number | null {
    return this.#child?.proc.pid ?? null;
  }

  /** Tests only (needs debugHooks): make the child's event loop hang, or its answers garbled. */
  debug(request: "hang" | "garble"): void {
    this.#child?.proc.send({ t: request } satisfies HostMessage);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const child = this.#child;
    this.#child = null;
    this.#isolates = 0;
    this.#heap = EMPTY_HEAP;
    const error = new Error("The sandbox is disposed");
    for (const call of this.#queue.splice(0)) call.reject(error);
    if (child !== null) {
      child.gone = true;
      for (const call of child.pending.values()) call.reject(error);
      child.pending.clear();
      child.proc.kill("SIGKILL");
      this.#unref(child);
    }
    this.#stopWatch();
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#disposed || this.#queue.length === 0) return;
    const calls = this.#queue;
    this.#queue = [];
    let child: Child;
    try {
      child = this.#current();
    } catch (error) {
      for (const call of calls) call.resolve(failedRun(call, "HG_ERR_SANDBOX_CRASHED", startFailure(error)));
      return;
    }
    for (const call of calls) child.pending.set(call.id, call);
    this.#ref(child);
    this.#startWatch();
    const message: HostMessage = {
      t: "run",
      calls: calls.map((c) => ({ id: c.id, fns: boundary(c.fns), eventJson: c.json })),
    };
    const lost = (): void =>
      this.#end(child, "HG_ERR_SANDBOX_CRASHED", "The sandbox process could not be reached");
    try {
      child.proc.send(message, (error) => {
        if (error != null) lost();
      });
    } catch {
      lost();
    }
  }

  #current(): Child {
    if (this.#child !== null && !this.#child.gone) return this.#child;
    const { debugHooks, ...options } = this.#options;
    const args = [JSON.stringify(options)];
    if (debugHooks === true) args.push(DEBUG_FLAG);
    const proc = fork(ENTRY, args, {
      // Nothing of the host's environment (REDIS_URL, HOOKGATE_ADMIN_TOKEN, NODE_OPTIONS...):
      // only PATH. No flags of the host's either.
      env: { PATH: process.env.PATH ?? "" },
      execArgv: [],
      cwd: "/",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
    });
    const now = Date.now();
    const child: Child = {
      proc,
      pending: new Map(),
      startedAt: now,
      lastHeard: now,
      ready: false,
      gone: false,
      referenced: true,
    };
    this.#child = child;
    this.#isolates = 0;
    proc.on("message", (message: unknown) => this.#onMessage(child, message));
    proc.on("exit", (code, signal) => {
      const how = signal ?? `code ${code}`;
      this.#end(
        child,
        "HG_ERR_SANDBOX_CRASHED",
        `The sandbox process exited (${how}) while the route was running`,
      );
    });
    proc.on("error", (error) => {
      this.#end(child, "HG_ERR_SANDBOX_CRASHED", `The sandbox process failed: ${error.message}`);
    });
    this.#unref(child);
    return child;
  }

  #onMessage(child: Child, raw: unknown): void {
    if (child.gone) return;
    child.lastHeard = Date.now();
    const message = raw as ChildMessage;
    if (typeof message !== "object" || message === null) return;
    if (message.t === "ready") {
      child.ready = true;
      return;
    }
    if (message.t !== "runs" || typeof message.runs !== "string") return;
    let answers: unknown;
    try {
      answers = JSON.parse(message.runs);
    } catch {
      answers = null;
    }
    if (!Array.isArray(answers)) {
      this.#end(child, "HG_ERR_SANDBOX_CRASHED", "The sandbox process sent an invalid answer");
      return;
    }
    if (child === this.#child && typeof message.isolates === "number") this.#isolates = message.isolates;
    if (child === this.#child && typeof message.heap === "object" && message.heap !== null) {
      this.#heap = heapOf(message.heap);
    }
    let invalid = false;
    for (const answer of answers as Array<Partial<RunAnswer> | null>) {
      const call = child.pending.get(answer?.id ?? 0);
      if (call === undefined) continue;
      child.pending.delete(call.id);
      if (isRouteRun(answer?.run)) call.resolve(answer.run);
      else {
        invalid = true;
        call.resolve(failedRun(call, "HG_ERR_SANDBOX_CRASHED", "The sandbox process sent an invalid answer"));
      }
    }
    // A child that answers out of protocol is broken or compromised: replace it.
    if (invalid) this.#end(child, "HG_ERR_SANDBOX_CRASHED", "The sandbox process sent an invalid answer");
    else if (child.pending.size === 0) this.#unref(child);
  }

  /** The child is gone or being killed: fail its calls in flight, start afresh for the next. */
  #end(child: Child, code: SandboxErrorCode, message: string): void {
    if (this.#child === child) {
      this.#child = null;
      this.#isolates = 0;
      this.#heap = EMPTY_HEAP;
    }
    if (!child.gone) {
      child.gone = true;
      if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill("SIGKILL");
    }
    const calls = [...child.pending.values()];
    child.pending.clear();
    this.#unref(child);
    for (const call of calls) call.resolve(failedRun(call, code, message));
    if (this.#child === null || this.#child.pending.size === 0) this.#stopWatch();
  }

  #startWatch(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.#watch(), WATCH_MS);
    this.#timer.unref();
  }

  #stopWatch(): void {
    if (this.#timer === null) return;
    clearInterval(this.#timer);
    this.#timer = null;
  }

  #watch(): void {
    const child = this.#child;
    if (child === null || child.pending.size === 0) {
      this.#stopWatch();
      return;
    }
    const now = Date.now();
    if (!child.ready) {
      if (now - child.startedAt > STARTUP_MS)
        this.#end(child, "HG_ERR_SANDBOX_CRASHED", "The sandbox process did not start");
      return;
    }
    const silent = now - child.lastHeard > MARGIN_MS;
    for (const call of child.pending.values()) {
      if ((silent && now > call.soft) || now > call.hard) {
        this.#end(
          child,
          "HG_ERR_SANDBOX_TIMEOUT",
          "The sandbox process stopped responding; it was restarted",
        );
        return;
      }
    }
  }

  #ref(child: Child): void {
    if (child.referenced || child.gone) return;
    child.referenced = true;
    child.proc.ref();
    child.proc.channel?.ref();
  }

  #unref(child: Child): void {
    if (!child.referenced) return;
    child.referenced = false;
    child.proc.unref();
    child.proc.channel?.unref();
  }
}

function failedRun(call: Call, code: SandboxErrorCode, message: string): RouteRun {
  const run: RouteRun = { filter: null, map: null };
  run[call.step] = { ok: false, logs: [], durationMs: 0, error: { code, message } };
  return run;
}

/** Exactly what crosses to the child: never more of a caller's object than the route's key,
 * sources and limits, whatever else it carries. */
function boundary(fns: RouteFunctions): RouteFunctions {
  const out: RouteFunctions = {
    key: String(fns.key),
    filter: typeof fns.filter === "string" ? fns.filter : null,
    map: typeof fns.map === "string" ? fns.map : null,
  };
  const limits = fns.limits;
  if (limits !== undefined && limits !== null) {
    out.limits = {};
    if (typeof limits.timeoutMs === "number") out.limits.timeoutMs = limits.timeoutMs;
    if (typeof limits.memoryLimitMb === "number") out.limits.memoryLimitMb = limits.memoryLimitMb;
  }
  return out;
}

/** Only the numeric fields of a heap report (it comes from the child). */
function heapOf(raw: object): SandboxHeapStatistics {
  const out = { ...EMPTY_HEAP };
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(out) as Array<keyof SandboxHeapStatistics>) {
    const v = r[k];
    if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

function startFailure(error: unknown): string {
  return `The sandbox process could not be started: ${error instanceof Error ? error.message : String(error)}`;
}
