/**
 * Steps 2 to 4 of the isolate runtime (isolate-runtime.ts), run once INSIDE each route isolate
 * before any user code: strip and neuter globals, install the capturing console and the hookgate
 * library, charge Intl objects against the route's memory, tame the override mistake, and deep-
 * freeze everything reachable from globalThis. Like the runtime it is sent as source
 * (route-loader.ts), so it must be self-contained: no imports, nothing from outside its body.
 *
 * Returns the off-heap state the runtime reads after each step: `over` is set when making an
 * Intl object was refused for the route's memory limit.
 */
export function isolateHardening(
  g: Record<PropertyKey, unknown>,
  config: { offHeapBudgetKiB: number; offHeapCostKiB: number },
  offHeap: Int32Array,
  capturingConsole: object,
  library: unknown,
): { over: boolean } {
  const O = Object;
  const R = Reflect;
  const StringOf = String;

  // ---- strip and neuter --------------------------------------------------------------------
  for (const name of ["WebAssembly", "SharedArrayBuffer", "WeakRef", "FinalizationRegistry", "console"]) {
    R.deleteProperty(g, name);
  }
  R.deleteProperty(Atomics, "wait");
  R.deleteProperty(Atomics, "waitAsync");
  O.defineProperty(g, "console", {
    value: capturingConsole,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  // The standard library (isolate-stdlib.ts), deep-frozen with everything else below.
  O.defineProperty(g, "hookgate", {
    value: library,
    writable: false,
    enumerable: false,
    configurable: false,
  });

  // ---- charge what escapes the heap limit ------------------------------------------------------
  // An Intl object keeps ICU state in C++ memory (~27 KB for a DateTimeFormat) that neither the
  // heap limit nor V8's external-memory figure sees: an isolate that keeps them grows the process
  // without bound. Each one user code makes (every Intl constructor, with or
  // without `new`, subclasses included, and Segmenter#segment) is charged offHeapCostKiB; past
  // the budget (the route's memory limit) making one throws, the step fails with
  // HG_ERR_SANDBOX_MEMORY, and the host recycles the isolate once half the budget is charged
  // (route-isolate.ts). ArrayBuffers need none of this: isolated-vm counts them in the heap limit.
  const state = { over: false };
  const chargeOffHeap = (): void => {
    const next = (offHeap[0] ?? 0) + config.offHeapCostKiB;
    if (next > config.offHeapBudgetKiB) {
      state.over = true;
      throw new RangeError("Out of memory: too many Intl objects for the route's memory limit");
    }
    offHeap[0] = next;
  };
  const intl = g.Intl as Record<string, unknown>;
  for (const name of R.ownKeys(intl)) {
    const C = intl[name as string];
    if (typeof C !== "function" || !("prototype" in C)) continue;
    const counted: unknown = new Proxy(C, {
      construct(target, args, newTarget) {
        chargeOffHeap();
        return R.construct(target, args, newTarget);
      },
      apply(target, self, args) {
        chargeOffHeap();
        return R.apply(target, self, args);
      },
    });
    O.defineProperty((C as { prototype: object }).prototype, "constructor", {
      value: counted,
      writable: true,
      enumerable: false,
      configurable: true,
    });
    O.defineProperty(intl, name, { value: counted, writable: true, enumerable: false, configurable: true });
  }
  const segmenterProto = (g.Intl as { Segmenter: { prototype: { segment: (s: string) => unknown } } })
    .Segmenter.prototype;
  const segment = segmenterProto.segment;
  const countedSegment = {
    segment(this: unknown, input: string): unknown {
      chargeOffHeap();
      return R.apply(segment, this, [input]);
    },
  }.segment;
  O.defineProperty(segmenterProto, "segment", {
    value: countedSegment,
    writable: true,
    enumerable: false,
    configurable: true,
  });

  // ---- tame the override mistake -------------------------------------------------------------
  const tame = (proto: object, names: PropertyKey[]): void => {
    for (const name of names) {
      const desc = O.getOwnPropertyDescriptor(proto, name);
      if (desc === undefined || !("value" in desc) || !desc.writable) continue;
      const value = desc.value as unknown;
      O.defineProperty(proto, name, {
        get() {
          return value;
        },
        set(this: unknown, v: unknown) {
          if (this === proto || this === null || (typeof this !== "object" && typeof this !== "function")) {
            throw new TypeError(`Cannot assign to read only property '${StringOf(name)}' of a builtin`);
          }
          O.defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
        },
        enumerable: desc.enumerable,
        configurable: false,
      });
    }
  };
  // Not Array.prototype.constructor, Promise.prototype.then and the like: V8 guards its fast
  // paths for those with "protectors" that turning them into accessors would invalidate.
  tame(O.prototype, R.ownKeys(O.prototype));
  tame(Function.prototype, ["toString"]);
  for (const E of [
    Error,
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
    AggregateError,
  ]) {
    tame(E.prototype, ["constructor", "name", "message", "toString"]);
  }

  // ---- deep freeze -----------------------------------------------------------------------
  const hidden: unknown[] = [];
  const addProto = (make: () => unknown): void => {
    try {
      hidden.push(O.getPrototypeOf(make()));
    } catch {
      // an intrinsic this V8 does not have
    }
  };
  addProto(() => function* () {});
  addProto(() => async () => {});
  addProto(() => async function* () {});
  addProto(() => (function* () {})());
  addProto(() => (async function* () {})());
  addProto(() => [][Symbol.iterator]());
  addProto(() => new Map().entries());
  addProto(() => new Set().values());
  addProto(() => ""[Symbol.iterator]());
  addProto(() => /a/[Symbol.matchAll]("a"));
  addProto(() => ([].values() as unknown as { map(f: (x: unknown) => unknown): unknown }).map((x) => x));
  addProto(() => (g.Iterator as { from(x: unknown): unknown }).from({ next: () => ({ done: true }) }));
  addProto(() => new Intl.Segmenter().segment(""));
  addProto(() => new Intl.Segmenter().segment("")[Symbol.iterator]());
  const seen = new WeakSet<object>();
  const stack: unknown[] = [g, ...hidden];
  while (stack.length > 0) {
    const o = stack.pop();
    if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) continue;
    seen.add(o);
    O.freeze(o);
    stack.push(O.getPrototypeOf(o));
    for (const key of R.ownKeys(o)) {
      const desc = O.getOwnPropertyDescriptor(o, key);
      if (desc === undefined) continue;
      if ("value" in desc) stack.push(desc.value);
      else stack.push(desc.get, desc.set);
    }
  }
  // The runtime's own Intl objects above (hidden prototypes) are not the route's.
  offHeap[0] = 0;

  return state;
}
