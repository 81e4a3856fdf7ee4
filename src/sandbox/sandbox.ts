/**
 * WHERE SECRETS LIVE, AND WHERE USER CODE RUNS.
 *
 * The gateway process holds secrets: the admin token, every route's signing secret (whsec_) and
 * credential headers, the Redis URL (and its password, if any), in memory and in process.env.
 * isolated-vm's own advice is to run untrusted code in a process that holds none, and that is
 * what the default mode does (HOOKGATE_SANDBOX=process; `inline` keeps the isolates in the
 * gateway's process, for tests and single-tenant set-ups).
 *
 * The split (process mode). User code runs only in one child process (sandbox-child.ts),
 * spawned with an environment of nothing but PATH (no REDIS_URL, no
 * HOOKGATE_ADMIN_TOKEN, no NODE_OPTIONS), none of the host's Node flags, cwd "/", no stdin, and
 * the pool's limits (numbers) as its one argument. Over its stream (a socket pair, protocol.ts)
 * it only ever receives route function sources with their key and limits, and event JSON; it
 * sends back each run's envelope as its isolate wrote it, or a RouteRun, which the host checks
 * for shape before using them (envelope.ts, protocol.ts). It opens no Redis
 * connection, loads no configuration, and never sees a route's target, headers, signing secret or
 * template. The host (process-sandbox.ts) batches the calls of a tick into one message,
 * restarts the child when it dies (calls in flight fail with HG_ERR_SANDBOX_CRASHED) and kills
 * it when its event loop stops turning past a call's deadline (HG_ERR_SANDBOX_TIMEOUT).
 * checkFunctionSource stays in the gateway's process: it only compiles a source in a checker
 * isolate (V8's parser) and never runs a line of it, so no user code executes there.
 *
 * What user code can reach. Each route version runs in its own V8 isolate: a separate heap with
 * its own globals; no object of the hosting process's heap can be referenced from it at all.
 * Into it cross only (a) strings: the event JSON (copied, parsed inside), the runtime's config;
 * (b) numbers and booleans (slot, runMap); and (c) one SharedArrayBuffer of progress counters
 * (phase and start times), captured in the runtime's closure and never reachable from user code.
 * Out of it cross only strings (JSON envelopes). No ivm.Reference, Callback, ExternalCopy or host
 * function is ever put where user code can reach it: the runtime's install/run/runMany/collect
 * are handed to the host as references, the user modules get nothing but their one argument (a
 * fresh JSON.parse), and instantiate() refuses every import. isolated-vm's own `console` global
 * (the only global it installs, a host callback) is deleted and replaced by a capturing console
 * written in the isolate. So there is no function that, called from user code, runs in the
 * hosting process: no path to process, require, the file system or the network, by construction
 * rather than by filtering (test/sandbox/attacks.ts probes it).
 *
 * What user code can do to its own isolate. Its globals and every reachable builtin, prototype
 * and hidden intrinsic are deep-frozen before user code loads (isolate-runtime.ts); WebAssembly,
 * SharedArrayBuffer, WeakRef, FinalizationRegistry and Atomics.wait are removed. Pollution cannot
 * reach the next event of the same route, and different routes never share an isolate. Resource
 * abuse ends in a per-route error (deadline, heap limit, output limit), never in the host.
 *
 * What an escape would expose. A bug in V8 or isolated-vm that turns into arbitrary read/write or
 * code execution in the process running the isolates exposes that process. In process mode that
 * is the sandbox child: the function sources of the routes whose isolates it holds (at most
 * maxIsolates, plus whatever sources it was sent since it started) and the events in flight or
 * still in its memory, which the functions see anyway. Not the signing secrets, credential
 * headers, admin token, Redis URL or Redis (and through it every stored route and delivery):
 * none of those is in the child's memory, environment or arguments. Two residual powers remain:
 * the escaped code can answer the host with made-up RouteRuns for the calls in flight (so it can
 * choose whether and with what payload those events are delivered to targets the routes already
 * name, not where), and it runs with the gateway's OS user, so the file system and network that
 * user can reach are reachable (running the gateway as an unprivileged user in a container, or
 * adding seccomp / network namespaces around the child, narrows that further). In inline mode an
 * escape exposes everything above, in the gateway's own process. Isolates are not a security
 * boundary against such bugs in V8's threat model; they are against ordinary JavaScript. Keeping
 * Node patched is part of the security of either mode.
 *
 * What the child costs. A round trip on the stream per batch of calls (bench/sandbox.ts measures it
 * against inline and native), a second process's memory (~50 MB plus the isolates, which move
 * rather than grow), and supervision; the exit crash work-around of exit-guard.ts moves with
 * the isolates. The interface was narrow enough to move as is: runRoute(RouteFunctions, event
 * JSON) → RouteRun.
 *
 * ----
 *
 * Sandbox: the one public face of both modes. `new Sandbox(options)` keeps the isolates in this
 * process (inline, the historical behaviour, used by most tests); createSandbox({ ...options,
 * mode }) is what the gateway uses. The pool itself is InlineSandbox (inline-sandbox.ts).
 */
import type { HookgateEvent } from "../events/index.ts";
import { present } from "./function-source.ts";
import { InlineSandbox } from "./inline-sandbox.ts";
import { ProcessSandbox, type ProcessSandboxOptions } from "./process-sandbox.ts";
import type {
  RouteFunctions,
  RouteRun,
  SandboxHeapStatistics,
  SandboxMode,
  SandboxOptions,
} from "./types.ts";

export interface SandboxModeOptions extends SandboxOptions {
  /** Default "inline" for `new Sandbox`; the gateway's default is "process" (HOOKGATE_SANDBOX). */
  mode?: SandboxMode;
  /** Tests only (process mode): let the child honour debug requests. */
  debugHooks?: boolean;
}

export class Sandbox {
  readonly mode: SandboxMode;
  readonly #inline: InlineSandbox | null;
  readonly #process: ProcessSandbox | null;
  /** Events are never mutated after they are walked, so their JSON can be cached by identity. */
  readonly #json = new WeakMap<object, string>();

  constructor(options: SandboxModeOptions) {
    const { mode = "inline", debugHooks, ...pool } = options;
    this.mode = mode;
    if (mode === "process") {
      const processOptions: ProcessSandboxOptions = debugHooks === true ? { ...pool, debugHooks } : pool;
      this.#process = new ProcessSandbox(processOptions);
      this.#inline = null;
    } else {
      this.#inline = new InlineSandbox(pool);
      this.#process = null;
    }
  }

  /**
   * Run the route's filter, then (if it passed) its map, on one event. Never rejects for
   * user-code failures. `eventJson`, when the caller already holds it, must be
   * JSON.stringify(event) (it is what crosses into the isolate); otherwise the event is
   * serialised once per event object and reused for every route of the walk.
   */
  runRoute(fns: RouteFunctions, event: HookgateEvent, eventJson?: string): Promise<RouteRun> {
    if (present(fns.filter) === null && present(fns.map) === null) {
      return Promise.resolve({ filter: null, map: null });
    }
    const json = eventJson ?? this.#jsonOf(event);
    if (this.#process !== null) return this.#process.run(fns, json);
    return (this.#inline as InlineSandbox).run(fns, json);
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

  /** Live isolates (process mode: as of the child's last answer). */
  stats(): { isolates: number } {
    return (this.#process ?? (this.#inline as InlineSandbox)).stats();
  }

  /** Heap use summed over the live isolates (V8's own figures; inline: walks every isolate, for
   * diagnostics and benchmarks, not for a hot path; process: the child's last report, at most a
   * second older than its last answer). */
  heapStatistics(): SandboxHeapStatistics {
    return (this.#process ?? (this.#inline as InlineSandbox)).heapStatistics();
  }

  /** Process mode: the pid of the running sandbox process (null before the first call, after a
   * crash until the next call, and after dispose). Inline: always null. */
  childPid(): number | null {
    return this.#process?.childPid() ?? null;
  }

  /** Tests only (process mode, debugHooks): see ProcessSandbox.debug. */
  debug(request: "hang" | "garble"): void {
    this.#process?.debug(request);
  }

  /** Inline: disposes every isolate. Process: kills the sandbox process. */
  dispose(): void {
    this.#process?.dispose();
    this.#inline?.dispose();
  }
}

/** The gateway's one way to build its sandbox. */
export function createSandbox(options: SandboxOptions & { mode: SandboxMode }): Sandbox {
  return new Sandbox(options);
}
