/** Run user-supplied filter and map functions in isolated-vm. See route-isolate.ts for the contract of a run. */
export { checkFunctionSource, prepareFunctionSource } from "./function-source.ts";
export { createSandbox, Sandbox, type SandboxModeOptions } from "./sandbox.ts";
export type {
  ChildLoss,
  RouteFunctions,
  RouteLimitsIn,
  RouteRun,
  SandboxErrorCode,
  SandboxHeapStatistics,
  SandboxMode,
  SandboxOptions,
  StepResult,
  SyntaxProblem,
} from "./types.ts";
