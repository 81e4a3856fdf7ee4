/**
 * Building a route's isolate: a context, the runtime (isolate-runtime.ts with the hookgate
 * library) given the call-progress buffer and the limits, then the route's filter and map as
 * modules, evaluated under the deadline and installed. What comes back are the runtime's entry
 * points as references; nothing of the host goes in.
 */
import ivm from "isolated-vm";
import type { CallProgress, Step } from "./call-progress.ts";
import {
  errorMessage,
  type PreparedSource,
  positionProblem,
  prepareFunctionSource,
} from "./function-source.ts";
import { isolateHardening } from "./isolate-hardening.ts";
import { isolateRuntime } from "./isolate-runtime.ts";
import { hookgateLibrary } from "./isolate-stdlib.ts";
import { MAX_LOG_CHARS, MAX_LOG_LINES, MAX_OUTPUT_DEPTH, type RouteLimits } from "./limits.ts";
import { describeLoadThrow, memoryError, syntaxError } from "./step-errors.ts";
import type { SandboxErrorCode, StepError } from "./types.ts";

export type RunFn = (slot: number, json: string, runMap: boolean, hold: boolean) => string;
/** run() for several calls at once: slots as char codes, JSONs and answers joined by a separator. */
export type RunManyFn = (slots: string, jsons: string, runMap: boolean) => string;
export type CollectFn = (slot: number) => string;

export interface LoadedRoute {
  run: ivm.Reference<RunFn>;
  runMany: ivm.Reference<RunManyFn>;
  collect: ivm.Reference<CollectFn>;
  /** Steps that failed to load: their calls fail with this error, the other step still runs. */
  loadErrors: Partial<Record<Step, StepError>>;
}

/** Top-level code that ran out of time or memory: the isolate is done for, every call fails. */
export interface LoadFailure {
  fatal: { step: Step; error: StepError };
  death: "timeout" | "memory";
}

const FILES: Record<Step, string> = { filter: "filter.js", map: "map.js" };
/** The runtime as the script each route isolate runs first (exported for bench/isolate-build.ts). */
export const RUNTIME_SOURCE = `"use strict";((runtime, library, harden) => (shared, config) => runtime(shared, config, library(), harden))(${isolateRuntime.toString()}, ${hookgateLibrary.toString()}, ${isolateHardening.toString()})`;
/** What one Intl object is counted as outside the heap (measured: ~27 KB of RSS per
 * DateTimeFormat, none of it in V8's figures). */
const OFF_HEAP_COST_KIB = 32;

export async function loadRoute(
  isolate: ivm.Isolate,
  progress: CallProgress,
  limits: RouteLimits,
  sources: Record<Step, string | null>,
): Promise<LoadedRoute | LoadFailure> {
  const loadErrors: Partial<Record<Step, StepError>> = {};
  const prepared: Partial<Record<Step, PreparedSource>> = {};
  for (const step of ["filter", "map"] as const) {
    const source = sources[step];
    if (source === null) continue;
    const result = prepareFunctionSource(source);
    if (result.ok) prepared[step] = result.source;
    else loadErrors[step] = syntaxError(result.problem);
  }
  const context = await isolate.createContext();
  const script = await isolate.compileScript(RUNTIME_SOURCE, { filename: "hookgate-runtime.js" });
  const factory = (await script.run(context, { reference: true })) as ivm.Reference<unknown>;
  script.release();
  const config = JSON.stringify({
    slots: limits.maxConcurrent,
    maxOutputBytes: limits.maxOutputBytes,
    maxOutputDepth: MAX_OUTPUT_DEPTH,
    maxLogLines: MAX_LOG_LINES,
    maxLogChars: MAX_LOG_CHARS,
    files: { [FILES.filter]: prepared.filter?.lineOffset ?? 0, [FILES.map]: prepared.map?.lineOffset ?? 0 },
    offHeapBudgetKiB: limits.memoryLimitMb * 1024,
    offHeapCostKiB: OFF_HEAP_COST_KIB,
  });
  const api = (await factory.apply(
    undefined,
    [new ivm.ExternalCopy(progress.shared).copyInto({ release: true }), config],
    { result: { reference: true } },
  )) as ivm.Reference<{ install: unknown; run: unknown; runMany: unknown; collect: unknown }>;
  const install = (await api.get("install", { reference: true })) as ivm.Reference<unknown>;
  const run = (await api.get("run", { reference: true })) as ivm.Reference<RunFn>;
  const collect = (await api.get("collect", { reference: true })) as ivm.Reference<CollectFn>;
  const runMany = (await api.get("runMany", { reference: true })) as ivm.Reference<RunManyFn>;

  const namespaces: Partial<Record<Step, ivm.Reference<unknown>>> = {};
  for (const step of ["filter", "map"] as const) {
    const source = prepared[step];
    if (source === undefined) continue;
    const loaded = await loadModule(isolate, context, step, source, limits);
    if ("fatal" in loaded) return loaded;
    if ("error" in loaded) loadErrors[step] = loaded.error;
    else namespaces[step] = loaded.namespace;
  }
  const problems = (await install.apply(
    undefined,
    [namespaces.filter?.derefInto(), namespaces.map?.derefInto()],
    { timeout: limits.timeoutMs },
  )) as string;
  if (problems !== "") {
    const parsed = JSON.parse(problems) as Partial<Record<Step, { code: SandboxErrorCode; message: string }>>;
    for (const step of ["filter", "map"] as const) {
      const p = parsed[step];
      if (p !== undefined) loadErrors[step] = p;
    }
  }
  return { run, runMany, collect, loadErrors };
}

/** Compile, link and evaluate one user module. */
async function loadModule(
  isolate: ivm.Isolate,
  context: ivm.Context,
  step: Step,
  source: PreparedSource,
  limits: RouteLimits,
): Promise<{ namespace: ivm.Reference<unknown> } | { error: StepError } | LoadFailure> {
  let mod: ivm.Module;
  try {
    mod = await isolate.compileModule(source.code, { filename: FILES[step] });
  } catch (err) {
    return { error: syntaxError(positionProblem(errorMessage(err), source)) };
  }
  try {
    await mod.instantiate(context, () => {
      throw new Error("Imports are not allowed");
    });
  } catch {
    return { error: { code: "HG_ERR_SANDBOX_SYNTAX", message: "Imports are not allowed" } };
  }
  const { timeoutMs } = limits;
  let timer: NodeJS.Timeout | undefined;
  // isolated-vm's own `timeout` counts the module's running time. The host timer is only a
  // backstop: it also counts waiting for a thread of isolated-vm's pool, which many isolates
  // loading at once (a cold start under load) can stretch well past one deadline.
  const deadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => resolve("deadline"), Math.max(timeoutMs * 5, timeoutMs + 2000));
  });
  try {
    const r = await Promise.race([mod.evaluate({ timeout: timeoutMs }).then(() => "ok" as const), deadline]);
    if (r === "deadline") throw new Error("timed out");
  } catch (err) {
    if (/timed out/i.test(errorMessage(err))) {
      const message = `The ${step}'s top-level code did not finish within ${timeoutMs} ms`;
      return { fatal: { step, error: { code: "HG_ERR_SANDBOX_TIMEOUT", message } }, death: "timeout" };
    }
    if (isolate.isDisposed) {
      return { fatal: { step, error: memoryError(step, limits.memoryLimitMb) }, death: "memory" };
    }
    return { error: { code: "HG_ERR_SANDBOX_THROW", message: describeLoadThrow(err, source, FILES[step]) } };
  } finally {
    clearTimeout(timer);
  }
  return { namespace: mod.namespace };
}
