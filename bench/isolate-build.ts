/**
 * Where a cold route's build goes (issue 16, item 9): N isolates built one after another the way
 * route-loader.ts builds them (a context, the runtime script, its set-up with the hardening, the
 * route's filter and map as modules), each step timed, then disposed; the process's CPU per
 * build. Variants, to put a figure on each lever:
 *   async      what route-loader.ts does (each step on the isolate's thread);
 *   sync       the same steps with isolated-vm's *Sync calls, on the calling thread;
 *   cached     sync, with a V8 code cache of the runtime script;
 *   unhardened async without isolate-hardening.ts (no strip, taming or deep freeze): what the
 *              hardening costs; not something Hookgate could run.
 * Usage: node --no-node-snapshot bench/isolate-build.ts [builds per variant, default 200]
 */
import ivm from "isolated-vm";
import { RUNTIME_SOURCE } from "../src/sandbox/route-loader.ts";
import { machine } from "./harness.ts";

const N = Number(process.argv[2] ?? 200);
const SLOTS = 16;
const CONFIG = JSON.stringify({
  slots: SLOTS,
  maxOutputBytes: 1 << 20,
  maxOutputDepth: 128,
  maxLogLines: 50,
  maxLogChars: 1000,
  files: { "filter.js": 0, "map.js": 0 },
  offHeapBudgetKiB: 32 * 1024,
  offHeapCostKiB: 32,
});
const MODULES = ["export default (e) => e.type === 'messageNew';", "export default (e) => ({ id: e.id });"];
const UNHARDENED = RUNTIME_SOURCE.replace(
  "runtime(shared, config, library(), harden)",
  "runtime(shared, config, library(), () => ({ over: false }))",
);
if (UNHARDENED === RUNTIME_SOURCE) throw new Error("the runtime's composition changed: update this bench");

type Step = "isolate" | "context" | "compile" | "set-up" | "modules";

async function build(variant: string, source: string, cache: ivm.ExternalCopy<ArrayBuffer> | undefined) {
  const times: Record<Step, number> = { isolate: 0, context: 0, compile: 0, "set-up": 0, modules: 0 };
  let t = performance.now();
  const lap = (step: Step) => {
    const now = performance.now();
    times[step] += now - t;
    t = now;
  };
  const isolate = new ivm.Isolate({ memoryLimit: 32 });
  lap("isolate");
  const shared = () =>
    new ivm.ExternalCopy(new SharedArrayBuffer(SLOTS * 20 + 4)).copyInto({ release: true });
  const noImports = () => {
    throw new Error("no imports");
  };
  if (variant === "sync" || variant === "cached") {
    const context = isolate.createContextSync();
    lap("context");
    const script = isolate.compileScriptSync(source, cache ? { cachedData: cache } : {});
    lap("compile");
    const factory = script.runSync(context, { reference: true }) as ivm.Reference<unknown>;
    const api = factory.applySync(undefined, [shared(), CONFIG], {
      result: { reference: true },
    }) as ivm.Reference<Record<string, unknown>>;
    lap("set-up");
    const install = api.getSync("install", { reference: true }) as ivm.Reference<unknown>;
    const namespaces = MODULES.map((code, i) => {
      const mod = isolate.compileModuleSync(code, { filename: `m${i}.js` });
      mod.instantiateSync(context, noImports);
      mod.evaluateSync({ timeout: 1000 });
      return mod.namespace.derefInto();
    });
    install.applySync(undefined, namespaces, { timeout: 1000 });
    lap("modules");
  } else {
    const context = await isolate.createContext();
    lap("context");
    const script = await isolate.compileScript(source);
    lap("compile");
    const factory = (await script.run(context, { reference: true })) as ivm.Reference<unknown>;
    const api = (await factory.apply(undefined, [shared(), CONFIG], {
      result: { reference: true },
    })) as ivm.Reference<Record<string, unknown>>;
    lap("set-up");
    const install = (await api.get("install", { reference: true })) as ivm.Reference<unknown>;
    const namespaces = [];
    for (const [i, code] of MODULES.entries()) {
      const mod = await isolate.compileModule(code, { filename: `m${i}.js` });
      await mod.instantiate(context, noImports);
      await mod.evaluate({ timeout: 1000 });
      namespaces.push(mod.namespace.derefInto());
    }
    await install.apply(undefined, namespaces, { timeout: 1000 });
    lap("modules");
  }
  isolate.dispose();
  return times;
}

console.log(await machine());
console.log(`${N} builds per variant; ms per build (wall of each step; CPU of the whole process)`);
for (const variant of ["async", "sync", "cached", "unhardened", "async"]) {
  const source = variant === "unhardened" ? UNHARDENED : RUNTIME_SOURCE;
  const cache =
    variant === "cached"
      ? (
          new ivm.Isolate().compileScriptSync(source, { produceCachedData: true }) as {
            cachedData?: ivm.ExternalCopy<ArrayBuffer>;
          }
        ).cachedData
      : undefined;
  const sums: Record<string, number> = {};
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < N; i++) {
    for (const [step, ms] of Object.entries(await build(variant, source, cache)))
      sums[step] = (sums[step] ?? 0) + ms;
  }
  const cpu = process.cpuUsage(cpu0);
  const parts = Object.entries(sums).map(([step, ms]) => `${step} ${(ms / N).toFixed(2)}`);
  console.log(
    `${variant.padEnd(11)} wall ${((performance.now() - wall0) / N).toFixed(2)}, CPU ${((cpu.user + cpu.system) / 1000 / N).toFixed(2)}  (${parts.join(", ")})`,
  );
}
