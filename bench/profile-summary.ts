/*
 * Self time of a V8 .cpuprofile (node --cpu-prof), summed by function and by where the code
 * lives (our src/ file, a package, Node's internals, GC), in µs per event when the event count is
 * known. bench/peers.ts --profile <dir> writes <dir>/window.json with the measured window
 * (monotonic µs, the clock V8 stamps samples with) and the event count; samples outside it
 * (start-up, warm-up, shutdown) are left out.
 * Usage: node bench/profile-summary.ts <file.cpuprofile> [--window <dir>/window.json] [--top 30]
 *        [--callers writeUtf8String]  (that function's self time by the package or file calling it)
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    window: { type: "string" },
    top: { type: "string", default: "30" },
    // Native frames (socket writes, say) say little by themselves: whose JavaScript called them.
    callers: { type: "string" },
  },
});
const file = positionals[0];
if (!file) throw new Error("usage: node bench/profile-summary.ts <file.cpuprofile> [--window window.json]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const window = values.window
  ? (JSON.parse(readFileSync(values.window, "utf8")) as {
      from: number;
      to: number;
      events: number;
      name: string;
    })
  : null;

/** Where a function lives: src/<file>, a package, node: internals, or V8's own pseudo-frames. */
function area(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith("node:")) return url.split("/").slice(0, 2).join("/");
  const src = /\/((?:src|bench|test)\/.*)$/.exec(url);
  return src ? (src[1] as string) : url;
}

const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
/** The chain of areas from a node up to the root, nearest first, without native frames and Node's own. */
function callerAreas(id: number): string[] {
  const out: string[] = [];
  for (let p = parentOf.get(id); p !== undefined; p = parentOf.get(p)) {
    const { url, functionName } = (byNode.get(p) as ProfileNode).callFrame;
    if (url && !url.startsWith("node:")) out.push(area(url, functionName));
  }
  return out;
}
const byCaller = new Map<string, number>();
const byFunction = new Map<string, number>();
const byArea = new Map<string, number>();
let total = 0;
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i] ?? 0;
  t += delta;
  if (window && (t < window.from || t > window.to)) continue;
  const node = byNode.get(profile.samples[i] as number);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === "(idle)") continue;
  const where = area(url, functionName);
  const fnKey = `${functionName || "(anonymous)"}  ${where}${url ? `:${lineNumber + 1}` : ""}`;
  byFunction.set(fnKey, (byFunction.get(fnKey) ?? 0) + delta);
  byArea.set(where, (byArea.get(where) ?? 0) + delta);
  if (values.callers && functionName === values.callers) {
    // The first package or file up the stack, and the first of our own src/ files.
    const chain = callerAreas(node.id);
    const ours = chain.find((a) => a.startsWith("src/")) ?? "(none of ours)";
    const key = `${chain[0] ?? "(no JavaScript caller)"} ← ${ours}`;
    byCaller.set(key, (byCaller.get(key) ?? 0) + delta);
  }
  total += delta;
}

const top = Number(values.top);
const perEvent = (usTotal: number) =>
  window ? `${(usTotal / window.events).toFixed(1).padStart(7)} µs/event` : "";
const line = (k: string, v: number) =>
  `${((100 * v) / total).toFixed(1).padStart(5)} %  ${(v / 1000).toFixed(0).padStart(7)} ms ${perEvent(v)}  ${k}`;
console.log(
  `busy (non-idle) self time: ${(total / 1000).toFixed(0)} ms${window ? ` over ${window.events} events (${(total / window.events).toFixed(0)} µs/event, ${window.name})` : ""}`,
);
console.log(`\nby where the code lives (top ${top}):`);
for (const [k, v] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(line(k, v));
console.log(`\nby function (top ${top}):`);
for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(line(k, v));
if (values.callers) {
  console.log(`\n${values.callers} by caller (first package or file up the stack ← first src/ file):`);
  for (const [k, v] of [...byCaller].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(line(k, v));
}
