import type { StepResult } from "../sandbox/index.ts";
import type { RouteWalk } from "../walk/index.ts";

/*
 * What one walk says about each route it evaluated, in the bounded vocabulary the metrics use.
 * Pure, so the mapping is tested without a registry.
 */

export type StepName = "filter" | "map";

/** filter: passed/rejected; map: ok; a failure: the sandbox's error code, shortened. */
export type StepOutcome =
  | "passed"
  | "rejected"
  | "ok"
  | "timeout"
  | "memory"
  | "throw"
  | "syntax"
  | "output"
  | "crashed"
  | "error";

/** fired: a delivery was made; filtered_out: the filter said no; error: a step or the template failed. */
export type RouteOutcome = "fired" | "filtered_out" | "error" | "skipped";

export interface StepObservation {
  step: StepName;
  outcome: StepOutcome;
  durationMs: number;
}

export interface RouteObservation {
  routeId: string;
  outcome: RouteOutcome;
  steps: StepObservation[];
}

const ERROR_OUTCOMES: Record<string, StepOutcome> = {
  HG_ERR_SANDBOX_TIMEOUT: "timeout",
  HG_ERR_SANDBOX_MEMORY: "memory",
  HG_ERR_SANDBOX_THROW: "throw",
  HG_ERR_SANDBOX_SYNTAX: "syntax",
  HG_ERR_SANDBOX_OUTPUT: "output",
  HG_ERR_SANDBOX_CRASHED: "crashed",
};

export function stepOutcome(step: StepName, result: StepResult): StepOutcome {
  if (!result.ok) return ERROR_OUTCOMES[result.error?.code ?? ""] ?? "error";
  if (step === "map") return "ok";
  return result.value === true ? "passed" : "rejected";
}

export function routeOutcome(walk: RouteWalk): RouteOutcome {
  if (walk.fired) return "fired";
  if (walk.error) return "error";
  if (walk.skipped) return "skipped";
  return "filtered_out";
}

export function observeWalk(walks: readonly RouteWalk[]): RouteObservation[] {
  return walks.map((walk) => {
    const steps: StepObservation[] = [];
    if (walk.filter)
      steps.push({
        step: "filter",
        outcome: stepOutcome("filter", walk.filter),
        durationMs: walk.filter.durationMs,
      });
    if (walk.map)
      steps.push({ step: "map", outcome: stepOutcome("map", walk.map), durationMs: walk.map.durationMs });
    return { routeId: walk.route.route.id, outcome: routeOutcome(walk), steps };
  });
}
