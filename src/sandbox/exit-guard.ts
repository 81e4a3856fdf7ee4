/**
 * Work-around for a crash of isolated-vm 7 on Node 24 at process exit.
 *
 * isolated-vm tears down its state for the Node isolate in an environment cleanup hook. Node then
 * runs a last garbage collection while disposing the Node isolate; if that collection finds
 * isolated-vm handle objects (Isolate, Context, Module, Reference...) that had become garbage but
 * were not collected yet, their weak callbacks look up the torn-down state and the process aborts
 * with "Assertion `environment != nullptr' failed" (exit code 134) after all work is done. Whether
 * it happens depends on GC timing; the sandbox tests hit it in more than half the runs.
 *
 * Collecting garbage in the process "exit" event, while isolated-vm is still intact, runs those
 * callbacks safely and leaves nothing for the final collection. (A process killed by a signal
 * without a handler skips both the "exit" event and the teardown, so it is not affected.)
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let installed = false;

/** Idempotent; call before creating the first isolated-vm object. */
export function guardProcessExit(): void {
  if (installed) return;
  installed = true;
  let gc = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== "function") {
    // The usual way to get V8's gc() without starting node with --expose-gc; the flag is switched
    // off again so that later contexts do not get a gc global.
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc");
    setFlagsFromString("--no-expose-gc");
  }
  const collect = gc as () => void;
  process.on("exit", () => {
    collect();
    collect();
  });
}
