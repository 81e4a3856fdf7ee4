/**
 * The adversarial corpus: hostile route functions and what each must end as.
 *
 * Every attack is run through the dry-run and through real delivery by
 * test/e2e/sandbox-attacks.test.ts (and directly through a Sandbox by
 * test/integration/sandbox-attacks.test.ts). `expect` is either an error code (the route fails
 * for that event with that code, and nothing else is affected) or a harmless value: for a filter
 * `true` (the probe found nothing: the route fires), for a map the exact JSON output.
 *
 * Keep sources deterministic: no attack may pass or fail depending on timing, except that every
 * TIMEOUT attack runs forever (or far beyond any deadline) when not stopped.
 */
import type { SandboxErrorCode } from "../../src/sandbox/index.ts";

export interface Attack {
  name: string;
  kind: "filter" | "map";
  source: string;
  expect: { error: SandboxErrorCode } | { value: unknown };
  /** Also accepted: which of two limits trips first depends on how fast the machine runs it (a
   * memory hog competing for CPU may reach its deadline before its heap limit, a microtask loop
   * its heap limit before its deadline). */
  underLoad?: SandboxErrorCode;
}

const THROW = { error: "HG_ERR_SANDBOX_THROW" } as const;
const TIMEOUT = { error: "HG_ERR_SANDBOX_TIMEOUT" } as const;
const MEMORY = { error: "HG_ERR_SANDBOX_MEMORY" } as const;
const OUTPUT = { error: "HG_ERR_SANDBOX_OUTPUT" } as const;
const SYNTAX = { error: "HG_ERR_SANDBOX_SYNTAX" } as const;
const SAFE = { value: true } as const;

/** Names a host-side global that must never be reachable. */
const HOST_NAMES =
  "process require module exports Buffer global setTimeout setInterval setImmediate queueMicrotask fetch XMLHttpRequest WebAssembly SharedArrayBuffer WeakRef FinalizationRegistry _ivm ivm $0 Deno Bun";

export const attacks: Attack[] = [
  // ---- escapes through constructor chains ---------------------------------------------------
  {
    name: "Function constructor returns this: no process on it",
    kind: "filter",
    source: `export default () => { const g = (function () {}).constructor("return this")(); return typeof g.process === "undefined" && typeof g.require === "undefined"; }`,
    expect: SAFE,
  },
  {
    name: "arrow constructor chain to process.exit",
    kind: "filter",
    source: `export default () => (() => {}).constructor("return process")().exit(1)`,
    expect: THROW,
  },
  {
    name: "event.constructor.constructor to process",
    kind: "filter",
    source: `export default (e) => e.constructor.constructor("return process.mainModule.require('child_process')")().execSync("id")`,
    expect: THROW,
  },
  {
    name: "AsyncFunction constructor to process",
    kind: "filter",
    source: `export default () => (async () => {}).constructor("return process.env")()`,
    expect: THROW,
  },
  {
    name: "GeneratorFunction constructor to process",
    kind: "map",
    source: `export default () => (function* () {}).constructor("yield process.env")().next().value`,
    expect: THROW,
  },
  {
    name: "AsyncGeneratorFunction constructor to process",
    kind: "map",
    source: `export default () => Object.getPrototypeOf(async function* () {}).constructor("yield process.env")().next()`,
    expect: THROW,
  },
  {
    name: "sloppy-mode caller chain finds no host frame",
    kind: "map",
    source: `export default () => { const probe = Function("return function p() { return p.caller === null ? 'null' : typeof p.caller; }")(); return probe(); }`,
    expect: { value: "null" },
  },
  {
    name: "arguments.callee in strict code",
    kind: "filter",
    source: `export default function () { return arguments.callee.caller; }`,
    expect: THROW,
  },
  {
    name: "eval of process",
    kind: "filter",
    source: `export default () => eval("process.exit(3)")`,
    expect: THROW,
  },
  // ---- require and import -------------------------------------------------------------------
  {
    name: "require is not defined",
    kind: "filter",
    source: `export default () => require("fs").readFileSync("/etc/passwd", "utf8")`,
    expect: THROW,
  },
  {
    name: "static import is refused at load",
    kind: "filter",
    source: `import fs from "node:fs";\nexport default () => !!fs`,
    expect: SYNTAX,
  },
  {
    name: "dynamic import rejects",
    kind: "map",
    source: `export default async () => Object.keys(await import("node:fs"))`,
    expect: THROW,
  },
  {
    name: "import.meta holds nothing of the host",
    kind: "map",
    source: `export default () => JSON.stringify(import.meta)`,
    expect: { value: "{}" },
  },
  // ---- globalThis probing -------------------------------------------------------------------
  {
    name: "no host global is reachable by name",
    kind: "map",
    source: `export default () => ${JSON.stringify(HOST_NAMES)}.split(" ").filter((n) => n in globalThis || Object.getOwnPropertyNames(globalThis).includes(n))`,
    expect: { value: [] },
  },
  {
    name: "writing a global throws",
    kind: "filter",
    source: `export default () => { globalThis.leak = "x"; return true; }`,
    expect: THROW,
  },
  {
    name: "replacing console throws",
    kind: "filter",
    source: `export default () => { console.log = () => {}; return true; }`,
    expect: THROW,
  },
  {
    name: "Reflect.defineProperty on the global fails quietly",
    kind: "filter",
    source: `export default () => Reflect.defineProperty(globalThis, "leak", { value: 1 }) === false && !("leak" in globalThis)`,
    expect: SAFE,
  },
  // ---- host objects through arguments and errors ---------------------------------------------
  {
    name: "arguments carry only the plain event",
    kind: "map",
    // Keys: the HookgateEvent fields only (email and sourceKind when the event has them), no more.
    source: `export default function (e) { const fields = ["account", "data", "email", "id", "occurredAt", "receivedAt", "source", "sourceKind", "type"]; const keys = Object.keys(e); return [arguments.length, Object.getPrototypeOf(e) === Object.prototype, typeof e.data, keys.every((k) => fields.includes(k)), ["account", "data", "id", "occurredAt", "receivedAt", "source", "type"].every((k) => keys.includes(k))]; }`,
    expect: {
      value: [1, true, "object", true, true],
    },
  },
  {
    name: "error stacks show no host frames",
    kind: "filter",
    source: `export default () => { try { null.x; } catch (err) { const o = {}; Error.captureStackTrace(o); return !/work|node:|file:|ivm|isolated/.test(String(err.stack) + o.stack); } }`,
    expect: SAFE,
  },
  {
    name: "Error.prepareStackTrace to grab call sites",
    kind: "filter",
    source: `export default () => { Error.prepareStackTrace = (e, sites) => sites; return new Error().stack; }`,
    expect: THROW,
  },
  {
    name: "Error.stackTraceLimit cannot be changed",
    kind: "filter",
    source: `export default () => { Error.stackTraceLimit = Infinity; return true; }`,
    expect: THROW,
  },
  // ---- prototype pollution ------------------------------------------------------------------
  {
    name: "Object.prototype assignment",
    kind: "filter",
    source: `export default () => { Object.prototype.polluted = "yes"; return true; }`,
    expect: THROW,
  },
  {
    name: "Object.prototype via event __proto__",
    kind: "filter",
    source: `export default (e) => { e.__proto__.polluted = "yes"; return true; }`,
    expect: THROW,
  },
  {
    name: "defineProperty on Object.prototype",
    kind: "filter",
    source: `export default () => { Object.defineProperty(Object.prototype, "polluted", { get() { return "yes"; } }); return true; }`,
    expect: THROW,
  },
  {
    name: "Array.prototype.push replaced",
    kind: "filter",
    source: `export default () => { Array.prototype.push = function () { return 0; }; return true; }`,
    expect: THROW,
  },
  {
    name: "JSON.parse replaced",
    kind: "filter",
    source: `export default () => { JSON.parse = () => ({ hijacked: true }); return true; }`,
    expect: THROW,
  },
  {
    name: "Promise.prototype.then replaced",
    kind: "filter",
    source: `export default () => { Promise.prototype.then = function () {}; return true; }`,
    expect: THROW,
  },
  {
    name: "setPrototypeOf on a builtin prototype",
    kind: "filter",
    source: `export default () => { Object.setPrototypeOf(Array.prototype, { polluted: "yes" }); return true; }`,
    expect: THROW,
  },
  {
    name: "__proto__ key in parsed JSON stays local",
    kind: "filter",
    source: `export default () => { const o = Object.assign({}, JSON.parse('{"__proto__": {"polluted": "yes"}}')); return o.polluted === "yes" && ({}).polluted === undefined; }`,
    expect: SAFE,
  },
  {
    name: "witness: no pollution visible from any earlier call",
    kind: "filter",
    source: `export default () => ({}).polluted === undefined && [].polluted === undefined && typeof JSON.parse("{}") === "object" && !("leak" in globalThis) && Error.prepareStackTrace === undefined`,
    expect: SAFE,
  },
  // ---- never finishing ----------------------------------------------------------------------
  {
    name: "infinite loop in a filter",
    kind: "filter",
    source: `export default () => { for (;;) {} }`,
    expect: TIMEOUT,
  },
  {
    name: "infinite loop in a map",
    kind: "map",
    source: `export default () => { while (true) {} }`,
    expect: TIMEOUT,
  },
  {
    name: "infinite loop at the top level",
    kind: "filter",
    source: `for (;;) {}\nexport default () => true`,
    expect: TIMEOUT,
  },
  {
    name: "top-level await that never settles",
    kind: "map",
    source: `await new Promise(() => {});\nexport default () => 1`,
    expect: THROW,
  },
  {
    name: "promise that never settles",
    kind: "filter",
    source: `export default async () => { await new Promise(() => {}); return true; }`,
    expect: TIMEOUT,
  },
  {
    name: "thenable that never calls back",
    kind: "map",
    source: `export default () => ({ then() {} })`,
    expect: TIMEOUT,
  },
  {
    name: "microtask loop",
    kind: "filter",
    source: `export default () => { const spin = () => Promise.resolve().then(spin); spin(); return new Promise(() => {}); }`,
    expect: TIMEOUT,
    // Each turn allocates a promise: on a fast run the heap limit trips before the deadline.
    underLoad: "HG_ERR_SANDBOX_MEMORY",
  },
  {
    name: "toJSON that loops while the output is copied",
    kind: "map",
    source: `export default () => ({ toJSON() { for (;;) {} } })`,
    expect: TIMEOUT,
  },
  {
    name: "regex backtracking (ReDoS)",
    kind: "filter",
    source: `export default () => /^(a+)+$/.test("a".repeat(40) + "!")`,
    expect: TIMEOUT,
  },
  {
    name: "timers do not exist",
    kind: "filter",
    source: `export default () => new Promise((resolve) => setTimeout(resolve, 10, true))`,
    expect: THROW,
  },
  // ---- resources ----------------------------------------------------------------------------
  {
    name: "deep recursion",
    kind: "filter",
    source: `const down = (n) => down(n + 1) + 1;\nexport default () => down(0) > 0`,
    expect: THROW,
    // Deadlines are wall clock: among a round of endless attacks on a loaded machine, the
    // isolate's thread may get too little CPU to reach the stack's end within one.
    underLoad: "HG_ERR_SANDBOX_TIMEOUT",
  },
  {
    name: "string doubling past the maximum length",
    kind: "map",
    source: `export default () => { let s = "x"; for (;;) s += s; }`,
    expect: THROW,
  },
  {
    name: "array longer than allowed",
    kind: "map",
    source: `export default () => new Array(2 ** 32)`,
    expect: THROW,
  },
  {
    name: "memory growth in big chunks",
    kind: "map",
    source: `export default () => { const keep = []; for (;;) keep.push(new Array(1e6).fill(1.5)); }`,
    expect: MEMORY,
    underLoad: "HG_ERR_SANDBOX_TIMEOUT",
  },
  {
    name: "one huge array of numbers",
    kind: "filter",
    source: `export default () => Array.from({ length: 1e7 }, (_, i) => i + 0.5).length > 0`,
    expect: MEMORY,
    underLoad: "HG_ERR_SANDBOX_TIMEOUT",
  },
  {
    name: "huge ArrayBuffer",
    kind: "filter",
    source: `export default () => new Uint8Array(2 ** 31).length > 0`,
    expect: THROW,
  },
  {
    name: "output too big to copy back",
    kind: "map",
    source: `export default () => "x".repeat(1536 * 1024)`,
    expect: OUTPUT,
  },
  {
    name: "output of many small objects over the limit",
    kind: "map",
    source: `export default () => Array.from({ length: 2000 }, (_, i) => "z".repeat(1000) + i)`,
    expect: OUTPUT,
    underLoad: "HG_ERR_SANDBOX_TIMEOUT",
  },
  {
    name: "output nested too deep to serialise",
    kind: "map",
    source: `export default () => { let o = {}; for (let i = 0; i < 1000; i++) o = { o }; return o; }`,
    expect: OUTPUT,
  },
  {
    name: "cyclic output",
    kind: "map",
    source: `export default () => { const o = {}; o.self = o; return o; }`,
    expect: OUTPUT,
  },
  {
    name: "output with a getter that throws",
    kind: "map",
    source: `export default () => ({ get x() { throw new Error("boom"); } })`,
    expect: OUTPUT,
  },
  {
    name: "console flood is capped",
    kind: "filter",
    source: `export default () => { const big = "y".repeat(100000); for (let i = 0; i < 10000; i++) console.log(big, i); return true; }`,
    expect: SAFE,
  },
  // ---- removed or neutered builtins ---------------------------------------------------------
  {
    name: "Atomics.wait",
    kind: "filter",
    source: `export default () => Atomics.wait(new Int32Array(4), 0, 0, 1000) === "timed-out"`,
    expect: THROW,
  },
  {
    name: "SharedArrayBuffer",
    kind: "filter",
    source: `export default () => new SharedArrayBuffer(8).byteLength === 8`,
    expect: THROW,
  },
  {
    name: "WebAssembly",
    kind: "filter",
    source: `export default () => WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))`,
    expect: THROW,
  },
  {
    name: "WebAssembly through the Function constructor",
    kind: "filter",
    source: `export default () => typeof Function("return WebAssembly")() === "object"`,
    expect: THROW,
  },
  {
    name: "WeakRef and FinalizationRegistry are gone",
    kind: "filter",
    source: `export default () => typeof WeakRef === "undefined" && typeof FinalizationRegistry === "undefined"`,
    expect: SAFE,
  },
  {
    name: "Atomics.waitAsync",
    kind: "filter",
    source: `export default async () => (await Atomics.waitAsync(new Int32Array(new ArrayBuffer(16)), 0, 0, 10).value) === "timed-out"`,
    expect: THROW,
  },
  // ---- the hookgate library: the only functions user code is given --------------------------
  {
    name: "the hookgate helpers lead nowhere: their constructors make isolate functions",
    kind: "filter",
    source: `export default () => { const g = hookgate.parseAddress.constructor("return this")(); const h = Object.getPrototypeOf(hookgate.htmlToText).constructor("return typeof process + typeof require")(); return typeof g.process === "undefined" && h === "undefinedundefined" && Object.getPrototypeOf(hookgate) === Object.prototype; }`,
    expect: SAFE,
  },
  {
    name: "replacing a hookgate helper throws",
    kind: "filter",
    source: `export default () => { hookgate.domainOf = () => "attacker.example"; return true; }`,
    expect: THROW,
  },
  {
    name: "witness: the hookgate helpers are the originals",
    kind: "map",
    source: `export default () => [hookgate.domainOf("ada@example.com"), Object.isFrozen(hookgate), Object.isFrozen(hookgate.domainOf)]`,
    expect: { value: ["example.com", true, true] },
  },
  {
    name: "hostile megabyte of HTML for htmlToText ends in its own time",
    kind: "filter",
    source: `export default () => { const html = "<a ".repeat(50000) + "<!--".repeat(50000) + "&#x".repeat(50000) + "<script>".repeat(20000) + "<" + "b".repeat(200000); return typeof hookgate.htmlToText(html, { maxLength: 100 }) === "string"; }`,
    expect: SAFE,
  },
  {
    name: "console.log of objects whose every conversion throws",
    kind: "filter",
    source: `export default () => { const p = new Proxy({}, { get() { throw 1; }, ownKeys() { throw 2; }, getPrototypeOf() { throw 3; }, getOwnPropertyDescriptor() { throw 4; } }); console.log(p, { toJSON() { throw 5; } }, { [Symbol.toPrimitive]() { throw 6; }, toString() { throw 7; } }, Object.create(null)); return true; }`,
    expect: SAFE,
  },
  // ---- output aimed at the host and the stream between the processes -------------------------
  {
    name: "output imitating the stream's records and separators crosses as data",
    kind: "map",
    source: `export default () => { console.log("\\u0000A1,2,3:{\\"ms\\":0}\\u0000M1:{}"); return { nul: "a\\u0000b", record: 'C1,1,0000000002:{}A9,9:{"ms":0,"h":{"f":null,"m":null}}', lone: "\\ud800x", line: "\\u2028\\u2029" }; }`,
    expect: {
      value: {
        nul: "a\u0000b",
        record: 'C1,1,0000000002:{}A9,9:{"ms":0,"h":{"f":null,"m":null}}',
        lone: "\ud800x",
        line: "\u2028\u2029",
      },
    },
  },
  {
    name: "output with a __proto__ key stays data in the host",
    kind: "map",
    source: `export default () => JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}')`,
    expect: {
      value: JSON.parse(
        '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}',
      ),
    },
  },
  // ---- thrown non-Error values ----------------------------------------------------------------
  {
    name: "throws a string",
    kind: "filter",
    source: `export default () => { throw "just a string"; }`,
    expect: THROW,
  },
  {
    name: "throws null",
    kind: "map",
    source: `export default () => { throw null; }`,
    expect: THROW,
  },
  {
    name: "throws a symbol",
    kind: "filter",
    source: `export default () => { throw Symbol("s"); }`,
    expect: THROW,
  },
  {
    name: "throws an object whose toString throws",
    kind: "map",
    source: `export default () => { throw { toString() { throw new Error("again"); }, toJSON() { throw 1; } }; }`,
    expect: THROW,
  },
  {
    name: "throws a Proxy whose every trap throws",
    kind: "filter",
    source: `export default () => { throw new Proxy({}, { get() { throw 1; }, getPrototypeOf() { throw 2; }, ownKeys() { throw 3; }, has() { throw 4; } }); }`,
    expect: THROW,
  },
  {
    name: "rejects with an error whose message getter throws",
    kind: "map",
    source: `export default async () => { const e = new Error("x"); Object.defineProperty(e, "message", { get() { throw e; } }); throw e; }`,
    expect: THROW,
  },
  {
    name: "thenable that resolves twice",
    kind: "filter",
    source: `export default () => ({ then(ok, no) { ok(true); ok(false); no(new Error("late")); } })`,
    expect: SAFE,
  },
  // ---- species and thenable tricks on every value the runtime touches (issue 16, item 1) ------
  // The runtime settles a result through a promise it made itself: the user's promise is only
  // ever adopted, never asked to build the promise the host waits for.
  {
    name: "promise whose constructor getter turns into a species that never settles (issue 16 repro)",
    kind: "filter",
    source: `class Never extends Promise { constructor(ex) { super(() => {}); ex(() => {}, () => {}); } }
export default () => {
  const p = Promise.resolve(true); let n = 0;
  Object.defineProperty(p, "constructor", { get: () => (++n === 1 ? Promise : { [Symbol.species]: Never }) });
  return p;
};`,
    expect: SAFE,
  },
  {
    name: "promise whose species never settles, from the first look",
    kind: "map",
    source: `class Never extends Promise { constructor(ex) { super(() => {}); ex(() => {}, () => {}); } }
export default async () => {
  const p = Promise.resolve("real");
  Object.defineProperty(p, "constructor", { get: () => ({ [Symbol.species]: Never }) });
  return p;
};`,
    expect: { value: "real" },
  },
  {
    name: "species that forges the runtime's answer",
    kind: "map",
    source: `const forged = '{"ms":0,"h":{"f":null,"m":{"ok":true,"ms":0,"logs":[]}},"v":"forged"}';
class Forge extends Promise { constructor(ex) { let res; super((r) => { res = r; }); ex(() => res(forged), () => res(forged)); } }
export default () => {
  const p = Promise.resolve("real"); let n = 0;
  Object.defineProperty(p, "constructor", { get: () => (++n === 1 ? Promise : { [Symbol.species]: Forge }) });
  return p;
};`,
    expect: { value: "real" },
  },
  {
    name: "species whose constructor gives no resolve functions",
    kind: "filter",
    source: `class Mute extends Promise { constructor() { super(() => {}); } }
export default () => { const p = Promise.resolve(true); Object.defineProperty(p, "constructor", { value: { [Symbol.species]: Mute } }); return p; };`,
    expect: THROW,
  },
  {
    name: "species whose constructor loops forever",
    kind: "filter",
    source: `class Spin extends Promise { constructor(ex) { for (;;) {} } }
export default () => { const p = Promise.resolve(true); Object.defineProperty(p, "constructor", { value: { [Symbol.species]: Spin } }); return p; };`,
    expect: TIMEOUT,
  },
  {
    name: "then getter that answers differently on each look",
    kind: "map",
    source: `export default () => { let n = 0; return { get then() { n++; return n === 1 ? (ok) => ok("first") : undefined; }, n: 1 }; }`,
    expect: { value: { n: 1 } },
  },
  {
    name: "thenable that resolves with itself for ever",
    kind: "filter",
    source: `export default () => { const t = { then(ok) { ok(t); } }; return t; }`,
    expect: TIMEOUT,
    underLoad: "HG_ERR_SANDBOX_MEMORY",
  },
  {
    name: "then getter that loops forever",
    kind: "filter",
    source: `export default () => ({ get then() { for (;;) {} } })`,
    expect: TIMEOUT,
  },
  {
    name: "rejects with a thenable reason",
    kind: "map",
    source: `export default async () => { throw { then(ok) { ok("not a value"); } }; }`,
    expect: THROW,
  },
  {
    name: "revoked Proxy as the result",
    kind: "filter",
    source: `export default () => { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return proxy; }`,
    expect: THROW,
  },
  {
    name: "Proxy result whose then trap never calls back",
    kind: "map",
    source: `export default () => new Proxy({}, { get: (t, k) => (k === "then" ? () => {} : undefined) })`,
    expect: TIMEOUT,
  },
  {
    name: "Proxy result whose get trap loops while the output is copied",
    kind: "map",
    source: `export default () => new Proxy({ a: 1 }, { get(t, k) { if (k === "a") for (;;) {} return undefined; } })`,
    expect: TIMEOUT,
  },
  {
    name: "getter on the returned object that loops while the output is copied",
    kind: "map",
    source: `export default () => ({ ok: 1, get slow() { for (;;) {} } })`,
    expect: TIMEOUT,
  },
  {
    name: "filter result whose conversions loop is only tested for truth",
    kind: "filter",
    source: `export default () => ({ valueOf() { for (;;) {} }, toString() { for (;;) {} }, [Symbol.toPrimitive]() { for (;;) {} } })`,
    expect: SAFE,
  },
  {
    name: "toJSON that returns a promise",
    kind: "map",
    source: `export default () => ({ x: { toJSON() { return new Promise(() => {}); } } })`,
    expect: { value: { x: {} } },
  },
  {
    name: "toJSON that returns its own object, functions and all",
    kind: "map",
    source: `export default () => ({ toJSON() { return this; } })`,
    expect: OUTPUT,
  },
  {
    name: "toJSON that grows the output past the limit",
    kind: "map",
    source: `export default () => ({ small: { toJSON() { return "x".repeat(2e6); } } })`,
    expect: OUTPUT,
  },
  // ---- memory outside the heap (issue 16, item 3) ---------------------------------------------
  {
    name: "Intl objects kept across calls (outside the heap)",
    kind: "filter",
    source: `const kept = []; export default () => { for (let i = 0; i < 50; i++) kept.push(new Intl.DateTimeFormat("en-US")); return kept.length > 0; }`,
    expect: SAFE,
  },
  {
    name: "Intl objects without end in one call",
    kind: "map",
    source: `export default () => { const k = []; for (;;) k.push(new Intl.Collator("de", { sensitivity: "base" })); }`,
    expect: MEMORY,
    underLoad: "HG_ERR_SANDBOX_TIMEOUT",
  },
];
