/**
 * The sandbox's limits: the caps a Sandbox is made with (resolveOptions), a route's own limits
 * within them (routeLimits), and the bounds of what a step may log and return. Shared by the
 * in-process pool and the supervisor of the sandbox process, which checks answers against them.
 */
import type { RouteLimitsIn, SandboxOptions } from "./types.ts";

export const MAX_LOG_LINES = 50;
export const MAX_LOG_CHARS = 1000;
/** Deepest nesting of arrays/objects in a map's output: the host (templates, delivery log) walks
 * outputs recursively on a stack that may be smaller than the isolate's. */
export const MAX_OUTPUT_DEPTH = 128;

export interface RouteLimits {
  timeoutMs: number;
  memoryLimitMb: number;
  maxConcurrent: number;
  maxOutputBytes: number;
}

export function resolveOptions(options: SandboxOptions): { limits: RouteLimits; maxIsolates: number } {
  const { timeoutMs, memoryLimitMb } = options;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
    throw new RangeError("timeoutMs must be a positive number");
  if (!(memoryLimitMb > 0)) throw new RangeError("memoryLimitMb must be a positive number");
  return {
    limits: {
      timeoutMs,
      memoryLimitMb: Math.max(8, Math.ceil(memoryLimitMb)),
      maxConcurrent: positiveInt(options.maxConcurrentPerIsolate, 16, "maxConcurrentPerIsolate"),
      maxOutputBytes: positiveInt(options.maxOutputBytes, 1024 * 1024, "maxOutputBytes"),
    },
    maxIsolates: positiveInt(options.maxIsolates, 1000, "maxIsolates"),
  };
}

/** A route's limits clamped to the pool's (the caps); the shared object when unchanged. */
export function routeLimits(caps: RouteLimits, wanted: RouteLimitsIn | undefined): RouteLimits {
  if (wanted === undefined) return caps;
  const timeoutMs = clamp(wanted.timeoutMs, 1, caps.timeoutMs);
  const memoryLimitMb = Math.ceil(clamp(wanted.memoryLimitMb, 8, caps.memoryLimitMb));
  if (timeoutMs === caps.timeoutMs && memoryLimitMb === caps.memoryLimitMb) return caps;
  return { ...caps, timeoutMs, memoryLimitMb };
}

/** value within [min, max]; max when value is absent, not finite or not positive. */
function clamp(value: number | undefined, min: number, max: number): number {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return max;
  return Math.min(max, Math.max(min, value));
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
