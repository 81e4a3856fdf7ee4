/**
 * ProcessSandbox: the host side of Sandbox's `process` mode. The isolates live in one child
 * process (sandbox-child.ts) started with an environment holding nothing but PATH; this side
 * holds the calls in flight and supervises the child.
 *
 * - Stream: host and child talk over a socket pair on the child's fd 3, in records of UTF-8
 *   text (protocol.ts), not over Node's IPC channel. A route's sources and limits cross once per
 *   key and version (a `D` record; again to a new child); a call then carries only its id, the
 *   route's ref and the event's JSON exactly as the host holds it (neither escaped nor
 *   serialised again; the next routes of the same walk send no JSON at all: `S` records). Calls
 *   made in the same tick cross together, encoded straight into blocks of bytes (FrameWriter).
 *   The child runs the calls it reads at once for one route together (one crossing into the
 *   isolate per up to 16 of them) and sends back each run's envelope as its isolate wrote it,
 *   the answers of one chunk together while it works on the next: the gateway parses each
 *   envelope once (envelope.ts); Node's IPC channel costs about twice as much per call
 *   (bench/sandbox.ts). What the child sends is read as text only: its records are checked for
 *   framing and size, parsed with JSON.parse and checked for shape (readEnvelope, isRouteRun)
 *   before use, so a map's value can only be JSON data, as in inline mode; a record out of
 *   format, or an answer of the wrong shape, fails its calls and kills the child.
 * - Pending calls are kept in PendingCalls, not a Map (pending-calls.ts says why).
 * - Crash: when the child exits (crash, kill -9, OOM of the process), every call in flight
 *   resolves with HG_ERR_SANDBOX_CRASHED on its first step (calls are not re-run: a route that
 *   crashes the process would crash the next one too), and the next call starts a new child.
 * - Watchdog: the child sends a heartbeat every HEARTBEAT_MS while it has calls in flight. The
 *   child is taken for hung only when a call is past its deadline (its timeout per step, times
 *   its steps, plus MARGIN_MS), the child has been silent for MARGIN_MS, and its main thread has
 *   used MARGIN_MS of CPU since it was last heard from (read from /proc: watchdog.ts says why a
 *   child starved of CPU on a busy machine must not count). Then the host kills it (SIGKILL),
 *   fails the calls in flight with HG_ERR_SANDBOX_TIMEOUT and starts a new one for later calls.
 *   A child that keeps beating is doing its own deadlines (route-isolate.ts); calls queued behind
 *   others for the same isolate may legitimately take longer than one deadline, so a call of a
 *   live child is only given up when it outlives the pool's worst case (HARD_FACTOR times the
 *   deadline), and then that call alone fails: the child and the other routes' calls go on.
 * - Idle: the child and its channel are unref'd while no call is in flight, so an idle gateway
 *   process can exit; dispose() kills the child.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { boundary, EMPTY_HEAP, heapOf, same } from "./child-boundary.ts";
import { readEnvelope, runOf } from "./envelope.ts";
import { type RouteLimits, resolveOptions, routeLimits } from "./limits.ts";
import { PendingCalls } from "./pending-calls.ts";
import {
  DEBUG_FLAG,
  type Frame,
  FrameReader,
  FrameWriter,
  type HostControl,
  isRouteRun,
  type RunAnswer,
  STREAM_FD,
} from "./protocol.ts";
import { mainThreadCpuMs, residentMb } from "./thread-cpu.ts";
import type {
  RouteFunctions,
  RouteRun,
  SandboxErrorCode,
  SandboxHeapStatistics,
  SandboxOptions,
} from "./types.ts";
import { callVerdict, childHung } from "./watchdog.ts";

const ENTRY = fileURLToPath(new URL("./sandbox-child.ts", import.meta.url));
/**
 * How long the child may be silent (no heartbeat, no answer) past a call's deadline before it is
 * taken for hung. Generous on purpose: building many isolates at once (a cold start, or a burst
 * of routes whose isolates were just disposed) is synchronous work that holds the child's event
 * loop, and killing a child that is merely busy fails every other route's call in flight too.
 */
const MARGIN_MS = 5000;
/** A live child that has not answered a call after this many deadlines has lost it. */
const HARD_FACTOR = 60;
/** A child silent this long is hung whatever its CPU time says (watchdog.ts). */
const MAX_SILENT_MS = 60_000;
const DEFAULT_MAX_RSS_MB = 1536;
/** The message a child's planned end (replaced for its memory, once idle) is recorded with. */
const REPLACED = "replaced";
/** A replaced child still finishing its calls is killed past this multiple of maxRssMb. */
const HARD_RSS_FACTOR = 1.5;
const WATCH_MS = 250;
/** A child that has not said "ready" this long after it was started is killed. */
const STARTUP_MS = 30_000;
/** Routes whose sources a child holds, at most (the oldest defined is forgotten first). */
const MAX_DEFINED = 4096;
/** A tick's calls are written in pieces of about this many bytes, after a first piece of
 * FIRST_PIECE calls that lets the child start at once. Every write wakes the child, and waking a
 * process on the other core is not cheap, so pieces are large; the small first piece lets the
 * child work while the rest is written (bench/sandbox.ts measures both). */
const WRITE_CHUNK = 262_144;
const FIRST_PIECE = 8;
/** The longest record accepted from the child, in bytes. */
const MAX_RECORD = 2 ** 28;

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

/** A route version as sent to a child, under the ref its calls name. */
interface Defined {
  ref: number;
  fns: RouteFunctions;
}

interface Child {
  proc: ChildProcess;
  stream: Socket;
  reader: FrameReader;
  writer: FrameWriter;
  /** By key: what this child has been sent. */
  defined: Map<string, Defined>;
  pending: PendingCalls<Call>;
  startedAt: number;
  lastHeard: number;
  /** The CPU time of its main thread when it was last heard from, as of the watchdog's last look
   * (null: unknown), and when that look was. */
  cpuAtHeard: number | null;
  cpuSampledAt: number;
  /** When its resident memory was last compared with maxRssMb as calls were sent to it. */
  rssCheckedAt: number;
  ready: boolean;
  gone: boolean;
  referenced: boolean;
}

export class ProcessSandbox {
  readonly #options: ProcessSandboxOptions;
  readonly #limits: RouteLimits;
  #child: Child | null = null;
  /** Children replaced for their memory, finishing the calls they hold (no new ones go to them). */
  readonly #draining = new Set<Child>();
  readonly #maxRssMb: number;
  #queue: Call[] = [];
  #flushScheduled = false;
  #nextId = 1;
  #nextRef = 1;
  #timer: NodeJS.Timeout | null = null;
  #disposed = false;
  #isolates = 0;
  #heap: SandboxHeapStatistics = EMPTY_HEAP;

  constructor(options: ProcessSandboxOptions) {
    this.#limits = resolveOptions(options).limits;
    this.#options = { ...options };
    this.#maxRssMb =
      options.maxRssMb !== undefined && options.maxRssMb > 0 ? options.maxRssMb : DEFAULT_MAX_RSS_MB;
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
    const child = this.#child;
    if (child === null || child.gone) return;
    const control: HostControl = { t: request };
    child.writer.add("X", "", JSON.stringify(control));
    child.writer.flush();
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
    for (const old of this.#draining) this.#end(old, "HG_ERR_SANDBOX_CRASHED", "The sandbox is disposed");
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
    const writer = child.writer;
    // The routes of one walk come one after another on the same event: its JSON crosses once.
    let last: string | null = null;
    let n = 0;
    for (const call of calls) {
      const nums = `${call.id},${this.#define(child, call.fns)}`;
      if (call.json === last) writer.add("S", nums, "");
      else writer.add("C", nums, call.json);
      last = call.json;
      if (++n === FIRST_PIECE) writer.flush();
    }
    writer.flush();
  }

  /** The ref of the route in this child, after any records that define it there. */
  #define(child: Child, fns: RouteFunctions): number {
    const key = String(fns.key);
    const known = child.defined.get(key);
    if (known !== undefined && same(known.fns, fns)) return known.ref;
    if (known !== undefined) {
      child.defined.delete(key);
      child.writer.add("F", String(known.ref), "");
    } else if (child.defined.size >= MAX_DEFINED) {
      for (const [oldKey, old] of child.defined) {
        child.defined.delete(oldKey);
        child.writer.add("F", String(old.ref), "");
        break;
      }
    }
    const defined: Defined = { ref: this.#nextRef++, fns: boundary(fns) };
    child.defined.set(key, defined);
    child.writer.add("D", String(defined.ref), JSON.stringify(defined.fns));
    return defined.ref;
  }

  #write(child: Child, bytes: Buffer): void {
    const lost = (): void =>
      this.#end(child, "HG_ERR_SANDBOX_CRASHED", "The sandbox process could not be reached");
    try {
      child.stream.write(bytes, (error) => {
        if (error != null) lost();
      });
    } catch {
      lost();
    }
  }

  #current(): Child {
    const current = this.#child;
    if (current !== null && !current.gone) {
      const now = Date.now();
      if (now - current.rssCheckedAt < WATCH_MS) return current;
      current.rssCheckedAt = now;
      const rss = current.proc.pid === undefined ? null : residentMb(current.proc.pid);
      if (rss === null || rss <= this.#maxRssMb) return current;
      this.#replace(current);
    }
    const { debugHooks, onChildLost: _, ...options } = this.#options;
    const args = [JSON.stringify(options)];
    if (debugHooks === true) args.push(DEBUG_FLAG);
    const proc = spawn(process.execPath, [ENTRY, ...args], {
      // Nothing of the host's environment (REDIS_URL, HOOKGATE_ADMIN_TOKEN, NODE_OPTIONS...):
      // only PATH. No flags of the host's either.
      env: { PATH: process.env.PATH ?? "" },
      cwd: "/",
      // fd STREAM_FD (3): a socket pair, the stream of protocol.ts.
      stdio: ["ignore", "inherit", "inherit", "pipe"],
    });
    const stream = proc.stdio[STREAM_FD] as Socket;
    const now = Date.now();
    const child: Child = {
      proc,
      stream,
      reader: new FrameReader(MAX_RECORD),
      writer: new FrameWriter((bytes) => this.#write(child, bytes), WRITE_CHUNK),
      defined: new Map(),
      pending: new PendingCalls<Call>(),
      startedAt: now,
      lastHeard: now,
      cpuAtHeard: null,
      cpuSampledAt: 0,
      rssCheckedAt: now,
      ready: false,
      gone: false,
      referenced: true,
    };
    this.#child = child;
    this.#isolates = 0;
    stream.on("data", (chunk: Buffer) => this.#onData(child, chunk));
    stream.on("error", () =>
      this.#end(child, "HG_ERR_SANDBOX_CRASHED", "The sandbox process could not be reached"),
    );
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

  #onData(child: Child, chunk: Buffer): void {
    if (child.gone) return;
    child.lastHeard = Date.now();
    let frames: Frame[];
    try {
      frames = child.reader.push(chunk);
    } catch {
      frames = [{ tag: "?", nums: [], body: "" }];
    }
    for (const frame of frames) {
      if (child.gone) return;
      if (frame.tag === "A" && frame.nums.length === 2) this.#onEnvelope(child, frame);
      else this.#onMessage(child, frame);
    }
  }

  /** `A<id>,<µs>`: a call's envelope as its isolate wrote it (envelope.ts). */
  #onEnvelope(child: Child, frame: Frame): void {
    const [id = 0, micros = 0] = frame.nums;
    const call = child.pending.get(id);
    if (call === undefined) return;
    child.pending.delete(id);
    const env = readEnvelope(frame.body);
    if (env?.h === undefined) {
      call.resolve(failedRun(call, "HG_ERR_SANDBOX_CRASHED", "The sandbox process sent an invalid answer"));
      this.#end(child, "HG_ERR_SANDBOX_CRASHED", "The sandbox process sent an invalid answer");
      return;
    }
    call.resolve(runOf(env.h, env.v, micros / 1000));
    if (child.pending.size === 0) this.#idle(child);
  }

  /** No call in flight: a child being replaced goes now; the current one may sleep. */
  #idle(child: Child): void {
    if (this.#draining.has(child)) this.#end(child, "HG_ERR_SANDBOX_CRASHED", REPLACED);
    else this.#unref(child);
  }

  #onMessage(child: Child, frame: Frame): void {
    let message: Record<string, unknown> | null = null;
    if (frame.tag === "M" && frame.nums.length === 0) {
      try {
        const parsed: unknown = JSON.parse(frame.body);
        if (typeof parsed === "object" && parsed !== null) message = parsed as Record<string, unknown>;
      } catch {
        message = null;
      }
    }
    if (message === null) {
      this.#end(child, "HG_ERR_SANDBOX_CRASHED", "The sandbox process sent an invalid answer");
      return;
    }
    if (message.t === "ready") {
      child.ready = true;
      return;
    }
    if (message.t !== "runs") return;
    const answers = message.runs;
    if (!Array.isArray(answers)) {
      this.#end(child, "HG_ERR_SANDBOX_CRASHED", "The sandbox process sent an invalid answer");
      return;
    }
    if (child === this.#child && typeof message.isolates === "number") this.#isolates = message.isolates;
    if (child === this.#child && typeof message.heap === "object" && message.heap !== null) {
      this.#heap = heapOf(message.heap as object);
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
    else if (child.pending.size === 0) this.#idle(child);
  }

  /** The child is gone or being killed: fail its calls in flight, start afresh for the next. */
  #end(child: Child, code: SandboxErrorCode, message: string): void {
    // A child that ends for any reason but its planned replacement or our own dispose is news.
    if (!child.gone && message !== REPLACED && !this.#disposed) {
      this.#options.onChildLost?.({
        code,
        message,
        pid: child.proc.pid ?? null,
        callsLost: child.pending.size,
      });
    }
    this.#draining.delete(child);
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
    if ((this.#child === null || this.#child.pending.size === 0) && this.#draining.size === 0)
      this.#stopWatch();
  }

  /** The child's memory grew past maxRssMb (memory outside every isolate's heap limit, or
   * fragmentation that disposing isolates does not give back): later calls go to a new child,
   * and this one is killed once its calls in flight are answered, or at HARD_RSS_FACTOR times
   * the ceiling if it keeps growing meanwhile. */
  #replace(child: Child): void {
    if (this.#child !== child) return;
    this.#child = null;
    this.#isolates = 0;
    this.#heap = EMPTY_HEAP;
    if (child.pending.size === 0) {
      this.#end(child, "HG_ERR_SANDBOX_CRASHED", REPLACED);
      return;
    }
    this.#draining.add(child);
  }

  /** Watch the memory of the children being replaced (their calls in flight run on). */
  #watchDraining(): void {
    for (const child of this.#draining) {
      const pid = child.proc.pid;
      const rss = pid === undefined ? null : residentMb(pid);
      if (rss !== null && rss > this.#maxRssMb * HARD_RSS_FACTOR) {
        this.#end(
          child,
          "HG_ERR_SANDBOX_CRASHED",
          `The sandbox process used more than ${Math.round(this.#maxRssMb * HARD_RSS_FACTOR)} MB and was replaced`,
        );
      } else {
        const now = Date.now();
        for (const call of child.pending.values()) {
          if (callVerdict(now, call) !== "fail-call") continue;
          child.pending.delete(call.id);
          call.resolve(
            failedRun(call, "HG_ERR_SANDBOX_TIMEOUT", "The sandbox process did not answer this call in time"),
          );
        }
        if (child.pending.size === 0) this.#idle(child);
      }
    }
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
    this.#watchDraining();
    const child = this.#child;
    if (child === null || child.pending.size === 0) {
      if (this.#draining.size === 0) this.#stopWatch();
      return;
    }
    const now = Date.now();
    if (!child.ready) {
      if (now - child.startedAt > STARTUP_MS)
        this.#end(child, "HG_ERR_SANDBOX_CRASHED", "The sandbox process did not start");
      return;
    }
    const cpu = child.proc.pid === undefined ? null : mainThreadCpuMs(child.proc.pid);
    // Heard from since the last look: its CPU time now is (a little above) what it was then.
    if (child.lastHeard >= child.cpuSampledAt || child.cpuAtHeard === null) child.cpuAtHeard = cpu;
    child.cpuSampledAt = now;
    const hung = childHung(
      {
        silentMs: now - child.lastHeard,
        cpuSinceHeardMs: cpu === null || child.cpuAtHeard === null ? null : cpu - child.cpuAtHeard,
      },
      { marginMs: MARGIN_MS, maxSilentMs: MAX_SILENT_MS },
    );
    const calls = child.pending.values();
    if (hung && calls.some((call) => now > call.soft)) {
      this.#end(child, "HG_ERR_SANDBOX_TIMEOUT", "The sandbox process stopped responding; it was restarted");
      return;
    }
    for (const call of calls) {
      if (callVerdict(now, call) !== "fail-call") continue;
      child.pending.delete(call.id);
      call.resolve(
        failedRun(call, "HG_ERR_SANDBOX_TIMEOUT", "The sandbox process did not answer this call in time"),
      );
    }
    if (child.pending.size === 0) {
      this.#unref(child);
      return;
    }
    const rss = child.proc.pid === undefined ? null : residentMb(child.proc.pid);
    if (rss !== null && rss > this.#maxRssMb) this.#replace(child);
  }

  #ref(child: Child): void {
    if (child.referenced || child.gone) return;
    child.referenced = true;
    child.proc.ref();
    child.stream.ref();
  }

  #unref(child: Child): void {
    if (!child.referenced) return;
    child.referenced = false;
    child.proc.unref();
    child.stream.unref();
  }
}

function failedRun(call: Call, code: SandboxErrorCode, message: string): RouteRun {
  const run: RouteRun = { filter: null, map: null };
  run[call.step] = { ok: false, logs: [], durationMs: 0, error: { code, message } };
  return run;
}

function startFailure(error: unknown): string {
  return `The sandbox process could not be started: ${error instanceof Error ? error.message : String(error)}`;
}
