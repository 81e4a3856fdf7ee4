/**
 * The deadline of a call that is still running in its isolate, watched through the call's
 * progress (call-progress.ts) instead of by a crossing: each step gets `timeoutMs` from its own
 * start, a finished call's answer must arrive within one deadline of its last step's start, and a
 * call that never started is stuck after `stuckMs`.
 */
import { type CallProgress, DONE } from "./call-progress.ts";

export type Outcome =
  | { kind: "value"; value: unknown }
  | { kind: "error"; error: unknown; phase: number }
  | { kind: "deadline"; phase: number };

/** The call's outcome; on a missed deadline, `expire` runs once (it disposes the isolate). */
export function underDeadline(
  pending: Promise<unknown>,
  progress: CallProgress,
  call: { slot: number; sentAt: number; timeoutMs: number; stuckMs: number },
  expire: () => void,
): Promise<Outcome> {
  const { slot, sentAt, timeoutMs, stuckMs } = call;
  return new Promise<Outcome>((resolve) => {
    let timer: NodeJS.Timeout;
    let settled = false;
    const missed = (phase: number): void => {
      settled = true;
      resolve({ kind: "deadline", phase });
      expire();
    };
    const check = (): void => {
      if (settled) return;
      const phase = progress.phase(slot);
      const now = Date.now();
      if (phase === 1 || phase === 2) {
        const deadline = progress.startOf(slot, phase, now) + timeoutMs;
        if (now >= deadline) {
          missed(phase);
          return;
        }
        timer = setTimeout(check, deadline - now + 1);
      } else if (phase === DONE) {
        // The runtime finished the call, so its answer is already on its way: one deadline after
        // the last step started it must have arrived. If not, whatever the user's objects did to
        // it (a promise subclass through Symbol.species), the call fails alone, as a timeout. An
        // answer queued behind this timer (a busy host) is let through first: setImmediate runs
        // after the event loop's I/O.
        const deadline = Math.max(progress.startOf(slot, 1, now), progress.startOf(slot, 2, now)) + timeoutMs;
        if (now < deadline) timer = setTimeout(check, deadline - now + 1);
        else setImmediate(() => settled || missed(DONE));
      } else if (phase === 0 && now - sentAt > stuckMs) {
        missed(0);
      } else {
        timer = setTimeout(check, timeoutMs);
      }
    };
    timer = setTimeout(check, timeoutMs);
    pending.then(
      (value: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ kind: "value", value });
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ kind: "error", error, phase: progress.phase(slot) });
      },
    );
  });
}
