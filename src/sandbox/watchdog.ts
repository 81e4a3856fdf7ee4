/**
 * When is the sandbox process hung? The pure decision of ProcessSandbox's watchdog.
 *
 * Silence alone cannot tell: on a busy machine (other processes keeping both cores busy) a child
 * that is merely starved of CPU is silent as long as one whose event loop is stuck, and killing
 * it fails every route's calls in flight. What load does not fake is the child's own progress:
 * the CPU time of its main thread (the thread that turns its event loop and sends the
 * heartbeats; the isolates run on threads of their own). A loop stuck in synchronous work burns
 * that CPU without sending anything; a starved child burns next to none. So the child is hung
 * when it has been silent for `marginMs` AND its main thread has used `marginMs` of CPU since it
 * was last heard from, i.e. it ran for that long without turning its event loop once.
 *
 * Two fallbacks: where the thread's CPU time cannot be read (no /proc), silence past the margin
 * decides; and a child silent for `maxSilentMs` is taken for hung whatever its CPU
 * says (blocked in the kernel, stopped): no starved process on a working machine goes that long
 * without one turn of its loop.
 */
export interface ChildProgress {
  /** Wall time since the child's last heartbeat or answer. */
  silentMs: number;
  /** CPU time of the child's main thread since it was last heard from; null when unknown. */
  cpuSinceHeardMs: number | null;
}

export interface WatchdogLimits {
  marginMs: number;
  maxSilentMs: number;
}

export function childHung(progress: ChildProgress, limits: WatchdogLimits): boolean {
  if (progress.silentMs <= limits.marginMs) return false;
  if (progress.cpuSinceHeardMs === null) return true;
  return progress.cpuSinceHeardMs >= limits.marginMs || progress.silentMs >= limits.maxSilentMs;
}

/** What the watchdog does with one call in flight. A call is only ever failed on its own: even a
 * call no answer came for in its worst case (`hard`) does not cost the other routes' calls. */
export type CallVerdict = "wait" | "fail-call";

export function callVerdict(now: number, call: { hard: number }): CallVerdict {
  return now > call.hard ? "fail-call" : "wait";
}
