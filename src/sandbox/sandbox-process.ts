/**
 * Entry point of the sandbox process (Sandbox's `process` mode; see sandbox.ts and
 * process-sandbox.ts). Started by the gateway with an environment holding nothing but PATH, its
 * only argument the pool's limits as JSON. It runs an InlineSandbox and answers run requests
 * over the stream on fd 3 (protocol.ts); it has no Redis connection, no route store and no
 * secret, and it exits when the stream closes (the gateway is gone).
 */
import { Socket } from "node:net";
import { InlineSandbox } from "./inline-sandbox.ts";
import {
  type ChildMessage,
  DEBUG_FLAG,
  type Frame,
  FrameReader,
  HEAP_EVERY_MS,
  HEARTBEAT_MS,
  type HostControl,
  type RunAnswer,
  record,
  STREAM_FD,
} from "./protocol.ts";
import type { RouteFunctions, RouteRun, SandboxOptions } from "./types.ts";

let stream: Socket;
try {
  stream = new Socket({ fd: STREAM_FD, readable: true, writable: true });
} catch {
  process.stderr.write(`sandbox-process: must be started with a stream on fd ${STREAM_FD}\n`);
  process.exit(1);
}
const post = (message: ChildMessage): void => {
  stream.write(record("M", "", JSON.stringify(message)));
};

const options = JSON.parse(process.argv[2] ?? "{}") as SandboxOptions;
const debug = process.argv.includes(DEBUG_FLAG);
const pool = new InlineSandbox(options);
/** Routes defined by the host, by ref. */
const routes = new Map<number, RouteFunctions>();
/** The host is trusted: its records are only checked for framing (the cap guards memory). */
const reader = new FrameReader(2 ** 29);

let inFlight = 0;
let heartbeat: NodeJS.Timeout | null = null;
let answers: RunAnswer[] = [];
let flushScheduled = false;
let heapAt = 0;
let garble = false;

function flush(): void {
  if (answers.length === 0) return;
  const runs = garble
    ? answers.map(({ id }) => ({ id, run: { filter: "yes" } as unknown as RouteRun }))
    : answers;
  answers = [];
  const now = Date.now();
  const message: ChildMessage = { t: "runs", runs, isolates: pool.stats().isolates };
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
    setImmediate(() => {
      flushScheduled = false;
      flush();
    });
  }
}

function failure(fns: RouteFunctions | undefined, message: string): RouteRun {
  const step = typeof fns?.filter === "string" && /\S/.test(fns.filter) ? "filter" : "map";
  const run: RouteRun = { filter: null, map: null };
  run[step] = { ok: false, logs: [], durationMs: 0, error: { code: "HG_ERR_SANDBOX_THROW", message } };
  return run;
}

function start(id: number, ref: number, eventJson: string): void {
  inFlight++;
  heartbeat ??= setInterval(() => post({ t: "alive" }), HEARTBEAT_MS);
  const fns = routes.get(ref);
  if (fns === undefined) {
    answer(id, failure(fns, "The sandbox failed: unknown route"));
    return;
  }
  pool.run(fns, eventJson).then(
    (run) => answer(id, run),
    (error: unknown) =>
      answer(
        id,
        failure(fns, `The sandbox failed: ${error instanceof Error ? error.message : String(error)}`),
      ),
  );
}

function control(message: HostControl): void {
  if (message.t === "hang" && debug) {
    for (;;) {
      // Test only: an event loop that never turns again (what the host's watchdog is for).
    }
  } else if (message.t === "garble" && debug) {
    garble = true;
  }
}

function exit(): void {
  pool.dispose();
  process.exit(0);
}

stream.on("data", (chunk: Buffer) => {
  // What finished on the previous chunk goes back before this one is worked on: the host reads
  // those answers while this process runs the next calls.
  flush();
  let frames: Frame[];
  try {
    frames = reader.push(chunk);
  } catch {
    exit();
    return;
  }
  for (const { tag, nums, body } of frames) {
    if (tag === "C") start(nums[0] ?? 0, nums[1] ?? 0, body);
    else if (tag === "D") routes.set(nums[0] ?? 0, JSON.parse(body) as RouteFunctions);
    else if (tag === "F") routes.delete(nums[0] ?? 0);
    else if (tag === "X") control(JSON.parse(body) as HostControl);
  }
});
stream.on("end", exit);
stream.on("close", exit);
stream.on("error", exit);
post({ t: "ready" });
