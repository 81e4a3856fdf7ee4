/**
 * How a failed step reads: the StepError of each failure class and the RouteRun it makes. Pure:
 * the isolate's state (its death, its limits, the call's progress) is passed in.
 */

import { DONE, PHASE_STEP, type Step } from "./call-progress.ts";
import { failed } from "./envelope.ts";
import type { PreparedSource } from "./function-source.ts";
import type { RouteRun, StepError } from "./types.ts";

export function syntaxError(problem: { message: string; line: number; column: number }): StepError {
  return {
    code: "HG_ERR_SANDBOX_SYNTAX",
    message: `${problem.message} (line ${problem.line}, column ${problem.column})`,
  };
}

/** A top-level throw, as isolated-vm hands it over: only the message and the user-file frame. */
export function describeLoadThrow(err: unknown, source: PreparedSource, file: string): string {
  if (!(err instanceof Error))
    return `Uncaught ${typeof err === "string" ? JSON.stringify(err) : String(err)}`;
  const text = err.message ? `${err.name}: ${err.message}` : err.name;
  const frame = new RegExp(`${file.replace(".", "\\.")}:(\\d+):(\\d+)`).exec(err.stack ?? "");
  if (frame === null) return text;
  return `${text} (line ${Math.max(1, Number(frame[1]) - source.lineOffset)}, column ${frame[2]})`;
}

export function memoryError(step: Step, memoryLimitMb: number): StepError {
  return {
    code: "HG_ERR_SANDBOX_MEMORY",
    message: `The ${step} ran out of memory (limit ${memoryLimitMb} MB)`,
  };
}

/** The first step of a route: its filter, else its map. */
export function firstStep(hasFilter: boolean): Step {
  return hasFilter ? "filter" : "map";
}

/** The step running in phase `phase` (1 filter, 2 map, 0 not started, 3 finished but its answer
 * never came) missed its deadline: which step that is, and the error. */
export function timeoutError(
  phase: number,
  hasFilter: boolean,
  timeoutMs: number,
  why: string,
): { step: Step; error: StepError } {
  const step = PHASE_STEP[phase] ?? firstStep(hasFilter);
  const message =
    phase === 0
      ? "The route's isolate did not respond in time"
      : phase === DONE
        ? `The route's result did not settle within ${timeoutMs} ms`
        : `The ${step} did not finish within ${timeoutMs} ms${why}`;
  return { step, error: { code: "HG_ERR_SANDBOX_TIMEOUT", message } };
}

/** The run of a call whose `step` failed, timed from the steps' starts. */
export function failedRun(
  step: Step,
  error: StepError,
  hasFilter: boolean,
  starts: { filter: number; map: number; now: number },
): RouteRun {
  const { filter: filterStart, map: mapStart, now } = starts;
  if (step === "filter" || !hasFilter) {
    const run: RouteRun = { filter: null, map: null };
    run[step] = failed(error, Math.max(0, now - (step === "filter" ? filterStart : mapStart)));
    return run;
  }
  // The map failed, so the filter had passed; its logs died with the isolate.
  return {
    filter: { ok: true, value: true, logs: [], durationMs: Math.max(0, mapStart - filterStart) },
    map: failed(error, Math.max(0, now - mapStart)),
  };
}

/** The run of every call of a route that failed to load. */
export function fatalRun(fatal: { step: Step; error: StepError }, hasFilter: boolean): RouteRun {
  const first = firstStep(hasFilter);
  const message =
    fatal.step === first ? fatal.error.message : `The map failed to load: ${fatal.error.message}`;
  const run: RouteRun = { filter: null, map: null };
  run[first] = failed({ code: fatal.error.code, message }, 0);
  return run;
}
