/**
 * What crosses between the supervisor and the sandbox process, reduced to data: a route's
 * definition as sent (never more of a caller's object than its key, sources and limits) and the
 * heap figures the child reports (only their numbers).
 */
import type { RouteFunctions, SandboxHeapStatistics } from "./types.ts";

export const EMPTY_HEAP: SandboxHeapStatistics = {
  isolates: 0,
  usedHeapBytes: 0,
  totalHeapBytes: 0,
  externalBytes: 0,
  heapLimitBytes: 0,
};

/** Whether a route's definition as sent (boundary) still describes fns. */
export function same(sent: RouteFunctions, fns: RouteFunctions): boolean {
  if (sent.filter !== (typeof fns.filter === "string" ? fns.filter : null)) return false;
  if (sent.map !== (typeof fns.map === "string" ? fns.map : null)) return false;
  const limits = fns.limits;
  if (limits === undefined || limits === null) return sent.limits === undefined;
  const timeoutMs = typeof limits.timeoutMs === "number" ? limits.timeoutMs : undefined;
  const memoryLimitMb = typeof limits.memoryLimitMb === "number" ? limits.memoryLimitMb : undefined;
  return (
    sent.limits !== undefined &&
    Object.is(sent.limits.timeoutMs, timeoutMs) &&
    Object.is(sent.limits.memoryLimitMb, memoryLimitMb)
  );
}

/** Exactly what crosses to the child: never more of a caller's object than the route's key,
 * sources and limits, whatever else it carries. */
export function boundary(fns: RouteFunctions): RouteFunctions {
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
export function heapOf(raw: object): SandboxHeapStatistics {
  const out = { ...EMPTY_HEAP };
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(out) as Array<keyof SandboxHeapStatistics>) {
    const v = r[k];
    if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
  }
  return out;
}
