/**
 * The code that runs INSIDE each route isolate, before any user code.
 *
 * `isolateRuntime` is never called in the host: route-loader.ts sends `isolateRuntime.toString()`
 * (with the library and isolate-hardening.ts, the same way) into a fresh context as strict-mode
 * script and calls it there once. It must therefore be
 * self-contained: no imports, no references to anything outside its own body, and only
 * type annotations that Node's type stripping erases.
 *
 * What it does, in order:
 * 1. captures the intrinsics it needs (JSON.parse/stringify, Date.now, Promise#then, ...);
 * then isolateHardening (isolate-hardening.ts, the fourth argument) does steps 2 to 4:
 * 2. removes what user code has no business with: WebAssembly, SharedArrayBuffer, WeakRef,
 *    FinalizationRegistry (GC callbacks would run outside any deadline), Atomics.wait/waitAsync;
 *    replaces isolated-vm's console with a capturing one; installs the `hookgate` standard library
 *    (isolate-stdlib.ts, the third argument);
 * 3. "tames the override mistake" for common prototype properties (Object.prototype.*,
 *    Error.prototype.name/message, ...): they become accessors whose setter defines an own
 *    property on the receiver, so `err.message = "x"` or `Object.assign(o, {toString})` still work
 *    after the prototypes are frozen;
 * 4. deep-freezes every object reachable from globalThis plus the hidden intrinsics
 *    (generator/async/iterator prototypes), and globalThis itself.
 *
 * Why freeze instead of a fresh context per event: a new context costs ~0.5 ms, far more than a
 * typical filter. With one warm context per route version, the only state that could leak from
 * one event to the next is state in shared objects; freezing the builtins (and the global) makes
 * prototype pollution and global writes throw (user code is strict: modules and wrapped bodies)
 * instead of silently affecting the next event. What is deliberately NOT reset: variables at the
 * top level of the user's own module (like a warm serverless function; the isolate may be rebuilt
 * at any time so nothing may rely on them), Math.random state, RegExp legacy statics ($1...).
 *
 * It returns { install, run, runMany, collect } to the host (as references, never visible to user code):
 * - install(filterNamespace, mapNamespace): takes the evaluated user modules; returns a JSON
 *   string {filter?: {code, message}, map?: ...} of load problems ("" when none).
 * - run(slot, eventJson, runMap, hold): runs filter then (if it passed and runMap) map, each on
 *   its own copy of the event: the filter's from JSON.parse, the map's copied from it before the
 *   filter ran (copyOf: a third of a second parse) or, when the filter mostly rejects, parsed
 *   again for the events it passes. Returns the JSON envelope (see envelope.ts) either directly
 *   or, if user code returned a promise, as a promise of it; with hold, that promise is kept for
 *   collect(slot) and run returns "held" (so the host's synchronous fast path gets a plain string
 *   back in the common case).
 * - runMany(slots, jsons, runMap): run(..., hold = true) for a batch (see route-isolate.ts, Batching).
 *
 * Progress is published for the host's deadline watchdog in a SharedArrayBuffer:
 * phase[slot] = 1 filter running, 2 map running, 3 done; starts[2*slot] / starts[2*slot+1] =
 * Date.now() when the filter / map started.
 */
export function isolateRuntime(
  shared: SharedArrayBuffer,
  configJson: string,
  library: unknown,
  harden: (
    g: Record<PropertyKey, unknown>,
    config: { offHeapBudgetKiB: number; offHeapCostKiB: number },
    offHeap: Int32Array,
    console: object,
    library: unknown,
  ) => { over: boolean },
): unknown {
  const config = JSON.parse(configJson) as {
    slots: number;
    maxOutputBytes: number;
    maxOutputDepth: number;
    maxLogLines: number;
    maxLogChars: number;
    /** filename of each user module -> lines its wrapper adds before the user's first line */
    files: Record<string, number>;
    /** What Intl objects may hold outside the heap, in KiB, and what each is counted as. */
    offHeapBudgetKiB: number;
    offHeapCostKiB: number;
  };
  const g = globalThis as unknown as Record<PropertyKey, unknown>;
  const O = Object;
  const R = Reflect;
  const parse = JSON.parse;
  const isArray = Array.isArray;
  const keys = Object.keys;
  const stringify = JSON.stringify;
  const now = Date.now;
  const NativePromise = Promise;
  const promiseThen = Promise.prototype.then;
  const NativeError = Error;
  const StringOf = String;
  const starts = new Float64Array(shared, 0, config.slots * 2);
  const phase = new Int32Array(shared, config.slots * 16, config.slots);
  /** [0]: KiB of memory outside the heap charged to this isolate (read by the host to recycle it). */
  const offHeap = new Int32Array(shared, config.slots * 20, 1);
  const positionPattern = /([A-Za-z0-9_.-]+\.js):(\d+):(\d+)/;

  // ---- console capture -------------------------------------------------------------------
  interface LogSink {
    lines: string[];
    dropped: number;
  }
  /** The step whose user code is running now. Calls never interleave inside one task: each host
   * call runs to completion, microtasks included, before the next one starts. */
  let sink: LogSink | null = null;

  const describe = (v: unknown): string => {
    try {
      switch (typeof v) {
        case "string":
          return v;
        case "bigint":
          return `${StringOf(v)}n`;
        case "symbol":
          return v.toString();
        case "function":
          return `[Function ${StringOf((v as { name?: unknown }).name) || "anonymous"}]`;
        case "object":
          if (v === null) return "null";
          if (v instanceof NativeError) return `${StringOf(v.name)}: ${StringOf(v.message)}`;
          return stringify(v) ?? StringOf(v);
        default:
          return StringOf(v);
      }
    } catch {
      try {
        return StringOf(v);
      } catch {
        return "[unprintable]";
      }
    }
  };
  const write = (level: string, args: unknown[]): void => {
    const s = sink;
    if (s === null) return;
    if (s.lines.length >= config.maxLogLines) {
      s.dropped++;
      return;
    }
    let line = `[${level}]`;
    for (const a of args) {
      line += ` ${describe(a)}`;
      if (line.length > config.maxLogChars) break;
    }
    if (line.length > config.maxLogChars) line = `${line.slice(0, config.maxLogChars - 1)}…`;
    s.lines.push(line);
  };
  const captured = {
    log: (...a: unknown[]) => write("log", a),
    info: (...a: unknown[]) => write("info", a),
    warn: (...a: unknown[]) => write("warn", a),
    error: (...a: unknown[]) => write("error", a),
    debug: (...a: unknown[]) => write("debug", a),
    trace: (...a: unknown[]) => write("trace", a),
    dir: (...a: unknown[]) => write("log", a),
    assert: (cond?: unknown, ...a: unknown[]) => {
      if (!cond) write("assert", ["Assertion failed", ...a]);
    },
  };

  // Steps 2 to 4 (isolate-hardening.ts): from here on every builtin is frozen.
  const offHeapState = harden(g, config, offHeap, captured, library);

  // ---- running user functions ------------------------------------------------------------
  type UserFn = (event: unknown) => unknown;
  let filterFn: UserFn | null = null;
  let mapFn: UserFn | null = null;

  const install = (filterNs: unknown, mapNs: unknown): string => {
    const problems: Record<string, { code: string; message: string }> = {};
    const pick = (ns: unknown, step: string): UserFn | null => {
      if (ns === undefined || ns === null) return null;
      try {
        const fn = (ns as { default?: unknown }).default;
        if (typeof fn === "function") return fn as UserFn;
        problems[step] = {
          code: "HG_ERR_SANDBOX_SYNTAX",
          message: `The default export is ${fn === null ? "null" : typeof fn}, not a function`,
        };
      } catch (err) {
        // e.g. top-level await that never finished
        problems[step] = {
          code: "HG_ERR_SANDBOX_THROW",
          message: `The default export is not available: ${describe(err)}`,
        };
      }
      return null;
    };
    filterFn = pick(filterNs, "filter");
    mapFn = pick(mapNs, "map");
    return O.keys(problems).length > 0 ? stringify(problems) : "";
  };

  interface StepOut {
    ok: boolean;
    value?: boolean;
    ms: number;
    code?: string;
    message?: string;
    logs: string[];
  }
  interface Call {
    slot: number;
    json: string;
    runMap: boolean;
    t0: number;
    sink: LogSink;
    filter: StepOut | null;
    map: StepOut | null;
    mapJson: string | undefined;
    /** A copy of the event made before the filter ran, for the map (undefined: parse again). */
    mapEvent: unknown;
  }

  const positionOf = (err: unknown): string => {
    try {
      const stackText = (err as { stack?: unknown }).stack;
      if (typeof stackText !== "string") return "";
      for (const line of stackText.split("\n")) {
        const m = positionPattern.exec(line);
        if (m === null) continue;
        const offset = config.files[m[1] as string];
        if (offset === undefined) continue;
        return ` (line ${Math.max(1, Number(m[2]) - offset)}, column ${m[3]})`;
      }
    } catch {
      // no position then
    }
    return "";
  };
  const describeThrow = (err: unknown): string => {
    let text: string;
    try {
      if (err instanceof NativeError) {
        const name = StringOf(err.name);
        const message = StringOf(err.message);
        text = (message ? `${name}: ${message}` : name) + positionOf(err);
      } else if (typeof err === "string") {
        text = `Uncaught ${stringify(err)}`;
      } else {
        text = `Uncaught ${describe(err)}`;
      }
    } catch {
      text = "Uncaught exception (not printable)";
    }
    return text.length > 2000 ? `${text.slice(0, 1999)}…` : text;
  };

  const closeLogs = (s: LogSink): string[] => {
    if (s.dropped > 0) s.lines.push(`[… ${s.dropped} more lines]`);
    return s.lines;
  };
  const begin = (call: Call, step: 1 | 2): void => {
    offHeapState.over = false;
    const t = now();
    call.t0 = t;
    starts[call.slot * 2 + step - 1] = t;
    phase[call.slot] = step;
    call.sink = { lines: [], dropped: 0 };
    sink = call.sink;
  };
  const fail = (call: Call, code: string, message: string): StepOut => {
    sink = null;
    return { ok: false, ms: now() - call.t0, code, message, logs: closeLogs(call.sink) };
  };
  /** A step as JSON; the common case (passed, nothing logged) without a call to stringify. */
  const stepText = (out: StepOut | null): string => {
    if (out === null) return "null";
    if (!out.ok || out.logs.length > 0) return stringify(out);
    return out.value === undefined
      ? `{"ok":true,"ms":${out.ms},"logs":[]}`
      : `{"ok":true,"value":${out.value},"ms":${out.ms},"logs":[]}`;
  };
  const finish = (call: Call): string => {
    sink = null;
    phase[call.slot] = 3;
    // The envelope of envelope.ts: `ms` first, so the host can read it without parsing the rest.
    const ms = (call.filter?.ms ?? 0) + (call.map?.ms ?? 0);
    const head = `{"ms":${ms},"h":{"f":${stepText(call.filter)},"m":${stepText(call.map)}}`;
    return call.mapJson === undefined ? `${head}}` : `${head},"v":${call.mapJson}}`;
  };

  const isThenable = (v: unknown): boolean =>
    v !== null &&
    (typeof v === "object" || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function";
  /** A deep copy of a value fresh from JSON.parse (plain objects, arrays, primitives): the same
   * as parsing its JSON again, at a third of the cost (strings are shared: they are immutable). */
  const copyOf = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v;
    if (isArray(v)) {
      const out: unknown[] = [];
      for (let i = 0; i < v.length; i++) out[i] = copyOf(v[i]);
      return out;
    }
    const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    const names = keys(out);
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const x = out[name];
      if (typeof x === "object" && x !== null) out[name] = copyOf(x);
    }
    return out;
  };
  /** Estimated share of events the filter passes: when it is high enough, the map's event is
   * copied from the filter's before the filter runs (cheaper than a second parse); when the
   * filter mostly says no, the map's event is parsed only for the events that pass. */
  let passRate = 1;
  const COPY_AT = 0.35;
  const eventFor = (call: Call, step: 1 | 2): unknown => {
    if (step === 2 && call.mapEvent !== undefined) {
      const event = call.mapEvent;
      call.mapEvent = undefined;
      return event;
    }
    const event = parse(call.json);
    if (step === 1 && call.runMap && mapFn !== null && passRate >= COPY_AT) {
      try {
        call.mapEvent = copyOf(event);
      } catch {
        // nested too deep for this stack: the map parses its own
        call.mapEvent = undefined;
      }
    }
    return event;
  };
  /** Call fn(event); continue with next(ok, value) synchronously, or via a native promise. */
  const invoke = (
    fn: UserFn,
    call: Call,
    step: 1 | 2,
    next: (ok: boolean, v: unknown) => string | Promise<string>,
  ): string | Promise<string> => {
    let r: unknown;
    let thenable: boolean;
    try {
      r = fn(eventFor(call, step));
      thenable = isThenable(r);
    } catch (err) {
      return next(false, err);
    }
    if (!thenable) return next(true, r);
    // What the host waits for is a promise this runtime made, that adopts the user's thenable:
    // resolving it with r runs r's `then` (user code, and through it r's constructor and species)
    // while the step is still running, under its deadline. Never Promise.resolve(r) (it hands
    // back r itself when r.constructor says Promise) nor `then` on r (it builds its result through
    // r's species, which may never settle, or settle with a forged answer).
    const adopted = new NativePromise<unknown>((resolve) => resolve(r));
    return R.apply(promiseThen, adopted, [
      (v: unknown) => next(true, v),
      (e: unknown) => next(false, e),
    ]) as Promise<string>;
  };

  /** UTF-8 length of s; just s.length when that alone is over the limit (a lower bound). */
  const byteLength = (s: string): number => {
    if (s.length * 3 <= config.maxOutputBytes || s.length > config.maxOutputBytes) return s.length;
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  };
  /** Deepest array/object nesting of a JSON text, counted only when it could exceed the limit
   * (the host must be able to walk the output recursively: its stack may be smaller than ours). */
  const nesting = (s: string): number => {
    if (s.length <= config.maxOutputDepth * 2) return 0;
    // Fewer opening brackets than the limit (the usual case): no need to look closer.
    let brackets = 0;
    for (let i = s.indexOf("{"); i !== -1 && brackets <= config.maxOutputDepth; i = s.indexOf("{", i + 1))
      brackets++;
    for (let i = s.indexOf("["); i !== -1 && brackets <= config.maxOutputDepth; i = s.indexOf("[", i + 1))
      brackets++;
    if (brackets <= config.maxOutputDepth) return brackets;
    let depth = 0;
    let max = 0;
    let inString = false;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (inString) {
        if (c === 0x5c) i++;
        else if (c === 0x22) inString = false;
      } else if (c === 0x22) inString = true;
      else if (c === 0x5b || c === 0x7b) {
        if (++depth > max) max = depth;
      } else if (c === 0x5d || c === 0x7d) depth--;
    }
    return max;
  };
  const strict = (key: string, value: unknown): unknown => {
    const t = typeof value;
    if (t === "function" || t === "symbol") {
      throw new TypeError(`a ${t} is not JSON-serialisable${key ? ` (at key ${stringify(key)})` : ""}`);
    }
    return value;
  };

  /** A step that made more Intl objects than its budget failed for memory, whatever it did next. */
  const offHeapFailure = (call: Call, step: string): StepOut =>
    fail(
      call,
      "HG_ERR_SANDBOX_MEMORY",
      `The ${step} kept more Intl objects than its memory limit allows (each counts as ${config.offHeapCostKiB} KiB)`,
    );
  const afterMap = (call: Call, ok: boolean, v: unknown): string => {
    if (offHeapState.over) {
      call.map = offHeapFailure(call, "map");
      return finish(call);
    }
    if (!ok) {
      call.map = fail(call, "HG_ERR_SANDBOX_THROW", describeThrow(v));
      return finish(call);
    }
    if (v === undefined) {
      call.map = fail(call, "HG_ERR_SANDBOX_OUTPUT", "map returned undefined");
      return finish(call);
    }
    let json: string | undefined;
    try {
      json = stringify(v, strict);
    } catch (err) {
      const why = err instanceof NativeError ? StringOf(err.message) : describe(err);
      call.map = fail(call, "HG_ERR_SANDBOX_OUTPUT", `map output is not JSON-serialisable: ${why}`);
      return finish(call);
    }
    if (json === undefined) {
      call.map = fail(call, "HG_ERR_SANDBOX_OUTPUT", "map output is not JSON-serialisable");
      return finish(call);
    }
    const depth = nesting(json);
    if (depth > config.maxOutputDepth) {
      call.map = fail(
        call,
        "HG_ERR_SANDBOX_OUTPUT",
        `map output is nested more than ${config.maxOutputDepth} levels deep`,
      );
      return finish(call);
    }
    const size = byteLength(json);
    if (size > config.maxOutputBytes) {
      call.map = fail(
        call,
        "HG_ERR_SANDBOX_OUTPUT",
        `map output is ${size > 1e7 ? "over 10 MB" : `${json.length > config.maxOutputBytes ? "at least " : ""}${size} bytes`}, more than the limit of ${config.maxOutputBytes} bytes`,
      );
      return finish(call);
    }
    sink = null;
    call.map = { ok: true, ms: now() - call.t0, logs: closeLogs(call.sink) };
    call.mapJson = json;
    return finish(call);
  };
  const startMap = (call: Call): string | Promise<string> => {
    begin(call, 2);
    return invoke(mapFn as UserFn, call, 2, (ok, v) => afterMap(call, ok, v));
  };
  const afterFilter = (call: Call, ok: boolean, v: unknown): string | Promise<string> => {
    if (offHeapState.over) {
      call.filter = offHeapFailure(call, "filter");
      return finish(call);
    }
    if (!ok) {
      call.filter = fail(call, "HG_ERR_SANDBOX_THROW", describeThrow(v));
      return finish(call);
    }
    sink = null;
    const pass = !!v;
    passRate += ((pass ? 1 : 0) - passRate) / 16;
    call.filter = { ok: true, value: pass, ms: now() - call.t0, logs: closeLogs(call.sink) };
    return pass && call.runMap && mapFn !== null ? startMap(call) : finish(call);
  };

  /** Promises held back by run(..., hold = true) until the host collects them. */
  const held: Array<Promise<string> | undefined> = [];
  const collect = (slot: number): Promise<string> | string => {
    const p = held[slot];
    held[slot] = undefined;
    return p ?? stringify({ x: "nothing to collect" });
  };
  const run = (slot: number, json: string, runMap: boolean, hold: boolean): string | Promise<string> => {
    const r = runNow(slot, json, runMap);
    if (!hold || typeof r === "string") return r;
    held[slot] = r;
    return "held";
  };
  const runNow = (slot: number, json: string, runMap: boolean): string | Promise<string> => {
    const call: Call = {
      slot,
      json,
      runMap,
      t0: 0,
      sink: { lines: [], dropped: 0 },
      filter: null,
      map: null,
      mapJson: undefined,
      mapEvent: undefined,
    };
    try {
      if (filterFn !== null) {
        const f = filterFn;
        begin(call, 1);
        return invoke(f, call, 1, (ok, v) => afterFilter(call, ok, v));
      }
      return runMap && mapFn !== null ? startMap(call) : finish(call);
    } catch (err) {
      // Only reachable through a bug in this runtime or a resource error while formatting.
      sink = null;
      phase[slot] = 3;
      return stringify({ x: `sandbox runtime error: ${describe(err)}` });
    }
  };

  /** run(..., hold = true) for several calls: slots as char codes, JSONs and answers joined by NUL
   * (never raw in JSON text). */
  const runMany = (slots: string, joined: string, runMap: boolean): string => {
    const jsons = joined.split("\u0000");
    let out = "";
    for (let i = 0; i < jsons.length; i++) {
      const r = run(slots.charCodeAt(i), jsons[i] as string, runMap, true);
      out += i === 0 ? r : `\u0000${r}`;
    }
    return out;
  };

  return O.freeze({ install, run, runMany, collect });
}
