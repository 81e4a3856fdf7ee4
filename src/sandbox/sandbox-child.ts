/**
 * Entry point of the sandbox process (Sandbox's `process` mode; see sandbox.ts and
 * process-sandbox.ts). Started by the gateway with an environment holding nothing but PATH, its
 * only argument the pool's limits as JSON. It runs an InlineSandbox and answers run requests
 * over the stream on fd 3 (protocol.ts); it has no Redis connection, no route store and no
 * secret, and it exits when the stream closes (the gateway is gone). The calls for one route in
 * a chunk read from the stream run together (InlineSandbox.runManyRaw), and a run that ended
 * cleanly goes back as the envelope its isolate wrote, untouched (an `A` record).
 */
import { Socket } from "node:net";
import type { RawRun } from "./envelope.ts";
import { InlineSandbox } from "./inline-sandbox.ts";
import {
  type ChildMessage,
  DEBUG_FLAG,
  type Frame,
  FrameReader,
  FrameWriter,
  HEAP_EVERY_MS,
  HEARTBEAT_MS,
  type HostControl,
  type RunAnswer,
  STREAM_FD,
} from "./protocol.ts";
import type { RouteFunctions, RouteRun, SandboxOptions } from "./types.ts";

let stream: Socket;
try {
  stream = new Socket({ fd: STREAM_FD, readable: true, writable: true });
} catch {
  process.stderr.write(`sandbox-child: must be started with a stream on fd ${STREAM_FD}\n`);
  process.exit(1);
}
/** Answers go out when this much is written, and at each flush() (see the stream's "data"). */
const WRITE_CHUNK = 65_536;
const writer = new FrameWriter((bytes) => stream.write(bytes), WRITE_CHUNK);
const post = (message: ChildMessage): void => {
  writer.add("M", "", JSON.stringify(message));
  writer.flush();
};

const options = JSON.parse(process.argv[2] ?? "{}") as SandboxOptions;
const debug = process.argv.includes(DEBUG_FLAG);
const pool = new InlineSandbox(options);
/** Routes defined by the host, by ref. */
const routes = new Map<number, RouteFunctions>();
/** The host is trusted: its records are only checked for framing (the cap guards memory). */
const reader = new FrameReader(2 ** 29);
/** The event of the last `C` record, which `S` records run on again. */
let event = "";

let inFlight = 0;
let heartbeat: NodeJS.Timeout | null = null;
let answers: RunAnswer[] = [];
/** `A` records written since the last flush (protocol.ts). */
let envelopes = 0;
let flushScheduled = false;
let heapAt = 0;
let garble = false;

function flush(): void {
  if (answers.length === 0 && envelopes === 0) return;
  const runs = garble
    ? answers.map(({ id }) => ({ id, run: { filter: "yes" } as unknown as RouteRun }))
    : answers;
  answers = [];
  envelopes = 0;
  const now = Date.now();
  const message: ChildMessage = { t: "runs", runs, isolates: pool.stats().isolates };
  if (now - heapAt >= HEAP_EVERY_MS) {
    heapAt = now;
    message.heap = pool.heapStatistics();
  }
  post(message);
}

function answer(id: number, run: RouteRun | RawRun): void {
  if (!("envelope" in run)) answers.push({ id, run });
  else if (garble) answers.push({ id, run: run as unknown as RouteRun });
  else {
    // The isolate's own text, as it is: the gateway parses it once (envelope.ts).
    const micros = Math.round(run.elapsedMs * 1000);
    writer.add("A", `${id},${micros}`, run.envelope);
    envelopes++;
  }
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

/** The calls for one route read from one chunk of the stream: they run together. */
interface Group {
  fns: RouteFunctions | undefined;
  ids: number[];
  jsons: string[];
}

function start({ fns, ids, jsons }: Group): void {
  inFlight += ids.length;
  heartbeat ??= setInterval(() => post({ t: "alive" }), HEARTBEAT_MS);
  if (fns === undefined) {
    for (const id of ids) answer(id, failure(fns, "The sandbox failed: unknown route"));
    return;
  }
  pool.runManyRaw(fns, jsons).then(
    (runs) => {
      for (let i = 0; i < ids.length; i++) answer(ids[i] as number, runs[i] as RouteRun | RawRun);
    },
    (error: unknown) => {
      const message = `The sandbox failed: ${error instanceof Error ? error.message : String(error)}`;
      for (const id of ids) answer(id, failure(fns, message));
    },
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
  const groups = new Map<number, Group>();
  for (const { tag, nums, body } of frames) {
    if (tag === "C" || tag === "S") {
      if (tag === "C") event = body;
      const ref = nums[1] ?? 0;
      let group = groups.get(ref);
      if (group === undefined) {
        group = { fns: routes.get(ref), ids: [], jsons: [] };
        groups.set(ref, group);
      }
      group.ids.push(nums[0] ?? 0);
      group.jsons.push(event);
    } else if (tag === "D") routes.set(nums[0] ?? 0, JSON.parse(body) as RouteFunctions);
    else if (tag === "F") routes.delete(nums[0] ?? 0);
    else if (tag === "X") control(JSON.parse(body) as HostControl);
  }
  for (const group of groups.values()) start(group);
});
stream.on("end", exit);
stream.on("close", exit);
stream.on("error", exit);
post({ t: "ready" });
