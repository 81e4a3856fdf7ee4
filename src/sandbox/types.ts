/** Public types of the sandbox (re-exported from ./index.ts). */

import type { SandboxErrorCode } from "../errors.ts";

/** The sandbox stage's codes in the error catalog (src/errors.ts). */
export type { SandboxErrorCode };

/** A compile problem; line and column are 1-based positions in the user's own source. */
export interface SyntaxProblem {
  message: string;
  line: number;
  column: number;
}

export interface StepError {
  code: SandboxErrorCode;
  /** Safe to show to the user: never contains host stack frames or paths. */
  message: string;
}

export interface StepResult {
  ok: boolean;
  /** filter: boolean (truthiness of the return); map: the JSON-copied return value. */
  value?: unknown;
  /** Captured console lines, e.g. `[log] hello {"a":1}`; capped, see route-isolate.ts. */
  logs: string[];
  durationMs: number;
  error?: StepError;
}

/**
 * key = "routeId@version": identifies one compiled version; a new key means new code.
 * A null, missing or blank (whitespace-only) filter/map means the route has none.
 */
export interface RouteFunctions {
  key: string;
  filter?: string | null;
  map?: string | null;
  /** This route's own limits, each clamped to the Sandbox's (which are the maxima); see route-isolate.ts. */
  limits?: RouteLimitsIn;
}

/**
 * Per-route limits. Absent, non-finite or non-positive values mean "the Sandbox's value"; larger
 * values are lowered to it; memoryLimitMb below 8 is raised to 8.
 */
export interface RouteLimitsIn {
  timeoutMs?: number;
  memoryLimitMb?: number;
}

/** filter is null when there is no filter; map is null when there is no map or the filter did not pass. */
export interface RouteRun {
  filter: StepResult | null;
  map: StepResult | null;
}

export interface SandboxOptions {
  /** Deadline per step (filter, map), covering awaited work too; also the maximum per route. */
  timeoutMs: number;
  /** Heap limit per isolate; values below 8 are raised to 8; also the maximum per route. */
  memoryLimitMb: number;
  /** Default 1000; idle isolates beyond it are evicted, least recently used first. */
  maxIsolates?: number;
  /** Default 16; further calls for the same key wait in a FIFO queue. */
  maxConcurrentPerIsolate?: number;
  /** Default 1 MiB of UTF-8 JSON. */
  maxOutputBytes?: number;
  /** Process mode: the sandbox process's resident memory (MB) past which it is replaced (calls in
   * flight finish in it first; at 1.5 times this it is killed). Default 1536. */
  maxRssMb?: number;
  /** Process mode: told when the sandbox process ends unplanned (crashed, killed as hung or past
   * 1.5 times maxRssMb, an invalid answer), with the calls in flight it failed. */
  onChildLost?: (loss: ChildLoss) => void;
}

export interface ChildLoss {
  code: SandboxErrorCode;
  message: string;
  pid: number | null;
  callsLost: number;
}

/** Where the isolates live: in a child process that holds no secrets, or in this process. */
export type SandboxMode = "process" | "inline";

/** Sandbox.heapStatistics(): V8's figures summed over the live route isolates. */
export interface SandboxHeapStatistics {
  isolates: number;
  usedHeapBytes: number;
  totalHeapBytes: number;
  externalBytes: number;
  heapLimitBytes: number;
}
