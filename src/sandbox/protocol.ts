/**
 * The messages between the gateway (host) and its sandbox process (sandbox-process.ts), over
 * Node's IPC channel ("advanced" serialisation). Calls made in the same tick travel together in one `run` message; answers
 * finished in the same turn of the child's event loop travel together in one `runs` message.
 *
 * Everything the child sends is untrusted: a route that escaped its isolate would control the
 * child, so the host checks the shape of every answer (isRouteRun) before handing it on.
 */
import type { RouteFunctions, RouteRun, SandboxErrorCode, SandboxHeapStatistics } from "./types.ts";

export interface RunRequest {
  id: number;
  fns: RouteFunctions;
  eventJson: string;
}

export type HostMessage =
  | { t: "run"; calls: RunRequest[] }
  /** Test only (the child honours it when started with DEBUG_FLAG): block the event loop forever. */
  | { t: "hang" }
  /** Test only (likewise): answer the next runs out of protocol. */
  | { t: "garble" };

export type ChildMessage =
  /** Sent once, when the child has loaded and can take calls. */
  | { t: "ready" }
  /** Sent every HEARTBEAT_MS while the child has calls in flight: its event loop is turning. */
  | { t: "alive" }
  | {
      t: "runs";
      /** JSON of Array<{ id: number; run: RouteRun }>: the host parses nothing but JSON text from
       * the child (see process-sandbox.ts on serialisation). */
      runs: string;
      /** Live isolates in the child, after these runs. */
      isolates: number;
      /** At most once per HEAP_EVERY_MS (it walks every isolate). */
      heap?: SandboxHeapStatistics;
    };

export const HEARTBEAT_MS = 200;
export const HEAP_EVERY_MS = 1000;
/** argv flag that enables the test-only requests. */
export const DEBUG_FLAG = "--hookgate-debug-hooks";

const CODES: ReadonlySet<string> = new Set<SandboxErrorCode>([
  "HG_ERR_SANDBOX_SYNTAX",
  "HG_ERR_SANDBOX_THROW",
  "HG_ERR_SANDBOX_TIMEOUT",
  "HG_ERR_SANDBOX_MEMORY",
  "HG_ERR_SANDBOX_OUTPUT",
  "HG_ERR_SANDBOX_CRASHED",
]);

function isStep(x: unknown): boolean {
  if (x === null) return true;
  if (typeof x !== "object") return false;
  const s = x as Record<string, unknown>;
  if (typeof s.ok !== "boolean" || typeof s.durationMs !== "number" || !Array.isArray(s.logs)) return false;
  for (const line of s.logs) if (typeof line !== "string") return false;
  if (s.error !== undefined) {
    const e = s.error as Record<string, unknown> | null;
    if (typeof e !== "object" || e === null) return false;
    if (typeof e.code !== "string" || !CODES.has(e.code) || typeof e.message !== "string") return false;
  }
  return true;
}

/** The shape of a RouteRun (values are whatever JSON the child sent: a map's output is any JSON). */
export function isRouteRun(x: unknown): x is RouteRun {
  if (typeof x !== "object" || x === null) return false;
  const r = x as Record<string, unknown>;
  return isStep(r.filter) && isStep(r.map);
}

export interface RunAnswer {
  id: number;
  run: RouteRun;
}
