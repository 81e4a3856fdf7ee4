/** Run user-supplied filter and map functions in isolated-vm. See run-route.ts for the contract. */
export { checkFunctionSource } from "./function-source.ts";
export { Sandbox } from "./sandbox.ts";
export type {
  RouteFunctions,
  RouteRun,
  SandboxErrorCode,
  SandboxOptions,
  StepResult,
  SyntaxProblem,
} from "./types.ts";
