/**
 * Entry point of the sandbox process (Sandbox's `process` mode; see sandbox.ts and
 * process-sandbox.ts). Started by the gateway with an environment holding nothing but PATH, its
 * only argument the pool's limits as JSON. It runs an InlineSandbox and answers run requests
 * over the IPC channel; it has no Redis connection, no route store and no secret, and it exits
 * when the channel closes (the gateway is gone).
 */
import { InlineSandbox } from "./inline-sandbox.ts";
import {
  type ChildMessage,
  DEBUG_FLAG,
  HEAP_EVERY_MS,
  HEARTBEAT_MS,
  type HostMessage,
  type RunAnswer,
  type RunRequest,
} from "./protocol.ts";
import type { RouteRun, SandboxOptions } from "./types.ts";

const send = process.send?.bind(process);
if (send === undefined) {
  process.stderr.write("sandbox-process: must be started with an IPC channel\n");
  process.exit(1);
}
const post = (message: ChildMessage): void => {
  send?.(message);
};

const options = JSON.parse(process.argv[2] ?? "{}") as SandboxOptions;
const debug = process.argv.includes(DEBUG_FLAG);
const pool = new InlineSandbox(options);

let inFlight = 0;
let heartbeat: NodeJS.Timeout | null = null;
let answers: RunAnswer[] = [];
let flushScheduled = false;
let heapAt = 0;
let garble = false;

function flush(): void {
  flushScheduled = false;
  const runs = answers;
  answers = [];
  const now = Date.now();
  const json = garble
    ? JSON.stringify(runs.map(({ id }) => ({ id, run: { filter: "yes" } })))
    : JSON.stringify(runs);
  const message: ChildMessage = { t: "runs", runs: json, isolates: pool.stats().isolates };
  if (now - heapAt >= HEAP_EVERY_MS) {
    heapAt = now;
    message.heap = pool.heapStatistics();
  }
  post(message);
}

function answer(id: number, run: RouteRun): void {
  answers.push({ id, run });
  if (--inFlight === 0 && heartbeat !== null) {
    clearInterval(heartbeat);
    heartbeat = null;
  }
  if (!flushScheduled) {
    flushScheduled = true;
    // Everything that finishes in this turn of the event loop goes back in one message.
    setImmediate(flush);
  }
}

function start(call: RunRequest): void {
  inFlight++;
  heartbeat ??= setInterval(() => post({ t: "alive" }), HEARTBEAT_MS);
  pool.run(call.fns, call.eventJson).then(
    (run) => answer(call.id, run),
    (error: unknown) => {
      const step = typeof call.fns.filter === "string" && /\S/.test(call.fns.filter) ? "filter" : "map";
      const run: RouteRun = { filter: null, map: null };
      run[step] = {
        ok: false,
        logs: [],
        durationMs: 0,
        error: {
          code: "HG_ERR_SANDBOX_THROW",
          message: `The sandbox failed: ${error instanceof Error ? error.message : String(error)}`,
        },
      };
      answer(call.id, run);
    },
  );
}

process.on("message", (raw: unknown) => {
  const message = raw as HostMessage;
  if (message.t === "run") {
    for (const call of message.calls) start(call);
  } else if (message.t === "hang" && debug) {
    for (;;) {
      // Test only: an event loop that never turns again (what the host's watchdog is for).
    }
  } else if (message.t === "garble" && debug) {
    garble = true;
  }
});
process.on("disconnect", () => {
  pool.dispose();
  process.exit(0);
});
post({ t: "ready" });
