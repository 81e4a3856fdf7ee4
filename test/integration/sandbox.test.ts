import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { HookgateEvent } from "../../src/events/event-schema.ts";
import { type RouteRun, Sandbox, type SandboxMode, type StepResult } from "../../src/sandbox/index.ts";

const TIMEOUT_MS = 150;

function event(data: unknown, type = "messageNew"): HookgateEvent {
  return {
    id: "evt_test_1",
    type,
    source: "emailengine",
    account: "support",
    occurredAt: "2025-01-01T10:00:00.000Z",
    receivedAt: "2025-01-01T10:00:00.100Z",
    data,
  };
}
const invoice = event({ subject: "Invoice 1043", from: { address: "ada@example.com" }, n: 1 });

let keys = 0;
/** A fresh route version key, so tests never share an isolate unless they mean to. */
const key = (name: string) => `${name}-${++keys}@1`;

function step(s: StepResult | null): StepResult {
  assert.ok(s, "expected a step result");
  return s;
}
function failure(s: StepResult | null, code: string): string {
  const r = step(s);
  assert.equal(r.ok, false, `expected ${code}, got ${JSON.stringify(r)}`);
  assert.equal(r.error?.code, code, JSON.stringify(r.error));
  const message = r.error?.message ?? "";
  // Messages are shown to users: never host paths or host stack frames.
  assert.doesNotMatch(message, /\/work\/|node:internal|file:\/\/|isolated-vm boundary/);
  return message;
}

// Every test runs against both modes: isolates in this process, and in a sandbox process.
const MODES: SandboxMode[] = ["inline", "process"];
for (const mode of MODES) {
  describe(`sandbox (${mode})`, () => {
    let sandbox: Sandbox;
    before(() => {
      sandbox = new Sandbox({ mode, timeoutMs: TIMEOUT_MS, memoryLimitMb: 32 });
    });
    after(() => sandbox.dispose());

    const run = (fns: { filter?: string | null; map?: string | null }, ev = invoice, k = key("route")) =>
      sandbox.runRoute({ key: k, ...fns }, ev);

    describe("filters and maps", () => {
      it("fires when the filter returns true, and runs the map", async () => {
        const r = await run({
          filter: 'export default (event) => event.data.subject.includes("Invoice")',
          map: "export default (event) => ({ subject: event.data.subject, from: event.data.from.address })",
        });
        assert.equal(step(r.filter).ok, true);
        assert.equal(step(r.filter).value, true);
        assert.deepEqual(step(r.map).value, { subject: "Invoice 1043", from: "ada@example.com" });
        assert.equal(typeof step(r.map).durationMs, "number");
      });

      it("does not run the map when the filter returns false", async () => {
        const r = await run({
          filter: "export default (e) => e.type === 'messageDeleted'",
          map: "export default (e) => e",
        });
        assert.equal(step(r.filter).value, false);
        assert.equal(r.map, null);
      });

      it("reports the truthiness of any filter return as a boolean", async () => {
        const yes = await run({ filter: "export default (e) => e.data.subject" });
        assert.equal(step(yes.filter).value, true);
        const no = await run({ filter: "export default (e) => e.data.missing" });
        assert.equal(step(no.filter).value, false);
      });

      it("runs only the map when there is no filter, and nothing when there are no functions", async () => {
        const r = await run({ map: "export default (e) => [e.id, e.type, e.account]" });
        assert.equal(r.filter, null);
        assert.deepEqual(step(r.map).value, ["evt_test_1", "messageNew", "support"]);
        assert.deepEqual(await run({ filter: null, map: "  " }), { filter: null, map: null });
      });

      it("supports async functions and function declarations", async () => {
        const r = await run({
          filter: "export default async function (e) { await null; return e.data.n === 1; }",
          map: "export default async (e) => { const n = await Promise.resolve(e.data.n); return { n: n + 1 }; }",
        });
        assert.equal(step(r.filter).value, true);
        assert.deepEqual(step(r.map).value, { n: 2 });
      });

      it("runs EmailEngine-style function bodies with payload in scope, with await", async () => {
        const r = await run({
          filter: 'if (payload.type !== "messageNew") return false;\nreturn true;',
          map: "const subject = await Promise.resolve(payload.data.subject);\nreturn { subject, account: payload.account };",
        });
        assert.equal(step(r.filter).value, true);
        assert.deepEqual(step(r.map).value, { subject: "Invoice 1043", account: "support" });
        const skipped = await run(
          { filter: 'if (payload.type !== "messageNew") return false;\nreturn true;' },
          event({}, "x"),
        );
        assert.equal(step(skipped.filter).value, false);
      });

      it("gives the map a fresh copy of the event, whatever the filter did to its own", async () => {
        const r = await run({
          filter: "export default (e) => { e.data.subject = 'changed'; delete e.data.from; return true; }",
          map: "export default (e) => e.data",
        });
        assert.deepEqual(step(r.map).value, invoice.data);
      });

      it("the map's event is pristine whether it was copied before the filter ran or parsed after", async () => {
        // A filter that passes most events has the map's event copied from its own before it
        // runs; one that rejects most has it parsed again for those it passes. Both ways, the map
        // sees the event as sent, mutations and a __proto__ key included.
        const data = JSON.parse('{"__proto__": {"p": 1}, "list": [{"a": [1, {"b": null}]}, "x"], "z": 0}');
        const fns = (passEvery: number) => ({
          filter: `export default (e) => { const pass = e.data.n % ${passEvery} === 0; e.data.list[0].a.push(2); e.data.z = 1; delete e.data.__proto__; return pass; }`,
          map: "export default (e) => ({ n: e.data.n, own: Object.keys(e.data), proto: e.data.__proto__, list: e.data.list, z: e.data.z })",
        });
        for (const passEvery of [1, 2, 10]) {
          const k = key(`pristine-${passEvery}`);
          const runs = await Promise.all(
            Array.from({ length: 60 }, (_, n) => run(fns(passEvery), event({ ...data, n }), k)),
          );
          for (const [n, r] of runs.entries()) {
            assert.equal(step(r.filter).value, n % passEvery === 0, `event ${n}`);
            if (n % passEvery !== 0) continue;
            assert.deepEqual(step(r.map).value, {
              n,
              own: ["__proto__", "list", "z", "n"],
              proto: { p: 1 },
              list: [{ a: [1, { b: null }] }, "x"],
              z: 0,
            });
          }
        }
      });

      it("runs filter and map on events nested deeper than a recursive copy could go", async () => {
        let deep = "0";
        for (let i = 0; i < 30_000; i++) deep = `{"d":${deep}}`;
        // Deeper than JSON.stringify can go here too: the event's JSON is given as is.
        const json = JSON.stringify(event(null)).replace('"data":null', `"data":${deep}`);
        const depth =
          "export default (e) => { let n = 0; for (let o = e.data; typeof o === 'object'; o = o.d) n++; return n; }";
        const fns = {
          key: key("deep"),
          filter: depth.replace("return n;", "return n === 30000;"),
          map: depth,
        };
        // The point is depth, not speed: a deadline far above what parsing and walking need, so
        // that a busy machine cannot end it first (issue 15, item 10).
        const roomy = new Sandbox({ mode, timeoutMs: 120_000, memoryLimitMb: 32 });
        try {
          const r = await roomy.runRoute(fns, event(null), json);
          assert.equal(step(r.filter).value, true, JSON.stringify(r.filter));
          assert.equal(step(r.map).value, 30_000, JSON.stringify(r.map));
        } finally {
          roomy.dispose();
        }
      });

      it("reuses the isolate for the same key and compiles new code for a new key", async () => {
        const k = key("counter");
        const fns = { map: "let n = 0;\nexport default () => ++n" };
        assert.equal(step((await run(fns, invoice, k)).map).value, 1);
        assert.equal(step((await run(fns, invoice, k)).map).value, 2);
        assert.equal(step((await run(fns, invoice, key("counter"))).map).value, 1);
        // Same key with different code (a caller bug) never runs the stale code.
        assert.equal(step((await run({ map: "export default () => 'new'" }, invoice, k)).map).value, "new");
      });
    });

    describe("console capture", () => {
      it("captures console lines per step", async () => {
        const r = await run({
          filter:
            'export default (e) => { console.log("hello", { a: 1 }); console.warn("careful", 2); return true; }',
          map: 'export default (e) => { console.error(new TypeError("bad")); console.info(null, undefined, [1]); console.debug("d"); return 1; }',
        });
        assert.deepEqual(step(r.filter).logs, ['[log] hello {"a":1}', "[warn] careful 2"]);
        assert.deepEqual(step(r.map).logs, [
          "[error] TypeError: bad",
          "[info] null undefined [1]",
          "[debug] d",
        ]);
      });

      it("caps lines at 50 and 1000 characters, then says how many were dropped", async () => {
        const r = await run({
          map: 'export default () => { for (let i = 0; i < 70; i++) console.log(i, "x".repeat(i === 0 ? 5000 : 1)); return 0; }',
        });
        const logs = step(r.map).logs;
        assert.equal(logs.length, 51);
        assert.equal(logs[0]?.length, 1000);
        assert.ok(logs[0]?.startsWith("[log] 0 xxx"));
        assert.equal(logs[1], "[log] 1 x");
        assert.equal(logs[50], "[… 20 more lines]");
      });

      it("keeps logs of a step that throws", async () => {
        const r = await run({
          filter: 'export default () => { console.log("before"); throw new Error("x"); }',
        });
        assert.deepEqual(step(r.filter).logs, ["[log] before"]);
      });
    });

    describe("error codes", () => {
      it("HG_ERR_SANDBOX_SYNTAX, positioned in the user's source, for either step", async () => {
        const r = await run({ filter: "if (payload) {\n  return )\n}" });
        assert.match(
          failure(r.filter, "HG_ERR_SANDBOX_SYNTAX"),
          /Unexpected token '\)' \(line 2, column 10\)/,
        );
        const m = await run({ filter: "return true", map: "export default (e) => {\n  e.data..x\n}" });
        assert.equal(step(m.filter).value, true);
        assert.match(failure(m.map, "HG_ERR_SANDBOX_SYNTAX"), /line 2/);
        const notFn = await run({ map: "export default 42" });
        assert.match(failure(notFn.map, "HG_ERR_SANDBOX_SYNTAX"), /not a function/);
      });

      it("HG_ERR_SANDBOX_THROW for errors, with the position in the user's source", async () => {
        const r = await run({ filter: "export default (e) => {\n  const x = undefined;\n  return x.y;\n}" });
        const message = failure(r.filter, "HG_ERR_SANDBOX_THROW");
        assert.match(
          message,
          /^TypeError: Cannot read properties of undefined \(reading 'y'\) \(line 3, column 12\)$/,
        );
        assert.equal(r.map, null);
        const body = await run({ map: "const a = 1;\nthrow new RangeError('too far');" });
        assert.equal(failure(body.map, "HG_ERR_SANDBOX_THROW"), "RangeError: too far (line 2, column 7)");
      });

      it("HG_ERR_SANDBOX_THROW for thrown non-Errors and rejected promises", async () => {
        assert.match(failure((await run({ filter: "throw 'boom'" })).filter, "HG_ERR_SANDBOX_THROW"), /boom/);
        assert.match(failure((await run({ filter: "throw null" })).filter, "HG_ERR_SANDBOX_THROW"), /null/);
        assert.match(
          failure((await run({ filter: "throw Symbol('s')" })).filter, "HG_ERR_SANDBOX_THROW"),
          /Symbol\(s\)/,
        );
        assert.match(
          failure((await run({ filter: "throw { code: 7 }" })).filter, "HG_ERR_SANDBOX_THROW"),
          /"code":7/,
        );
        const rejected = await run({
          map: "export default async () => { await null; throw new Error('later'); }",
        });
        assert.match(failure(rejected.map, "HG_ERR_SANDBOX_THROW"), /^Error: later/);
        const topLevel = await run({ map: "throw new Error('at load');\nexport default () => 1" });
        assert.match(failure(topLevel.map, "HG_ERR_SANDBOX_THROW"), /at load \(line 1/);
      });

      it("HG_ERR_SANDBOX_OUTPUT for undefined, non-serialisable and oversized map output", async () => {
        assert.equal(
          failure((await run({ map: "export default () => {}" })).map, "HG_ERR_SANDBOX_OUTPUT"),
          "map returned undefined",
        );
        for (const map of [
          "export default () => () => 1",
          "export default () => ({ f() {} })",
          "export default () => { const a = {}; a.self = a; return a; }",
          "export default () => ({ n: 10n })",
          "export default () => [Symbol('s')]",
        ]) {
          assert.match(failure((await run({ map })).map, "HG_ERR_SANDBOX_OUTPUT"), /JSON-serialisable/, map);
        }
        const small = new Sandbox({ mode, timeoutMs: TIMEOUT_MS, memoryLimitMb: 16, maxOutputBytes: 1000 });
        try {
          const big = await small.runRoute(
            { key: "big@1", map: "export default () => 'é'.repeat(600)" },
            invoice,
          );
          assert.match(failure(big.map, "HG_ERR_SANDBOX_OUTPUT"), /1202 bytes, more than the limit of 1000/);
          const fits = await small.runRoute(
            { key: "fits@1", map: "export default () => 'x'.repeat(990)" },
            invoice,
          );
          assert.equal(step(fits.map).ok, true);
        } finally {
          small.dispose();
        }
        const huge = await run({ map: "export default () => 'x'.repeat(2 * 1024 * 1024)" });
        assert.match(failure(huge.map, "HG_ERR_SANDBOX_OUTPUT"), /more than the limit of 1048576 bytes/);
      });

      it("HG_ERR_SANDBOX_TIMEOUT for an infinite loop; the next call for the key works", async () => {
        const k = key("loop");
        const fns = { filter: "export default (e) => { if (e.data.loop) while (true) {} return true; }" };
        assert.match(
          failure((await run(fns, event({ loop: true }), k)).filter, "HG_ERR_SANDBOX_TIMEOUT"),
          /150 ms/,
        );
        assert.equal(step((await run(fns, event({ loop: false }), k)).filter).value, true);
      });

      it("HG_ERR_SANDBOX_TIMEOUT for a promise that never settles, and for a microtask loop", async () => {
        const k = key("never");
        const fns = {
          filter: "return true",
          map: "if (payload.data.hang) await new Promise(() => {});\nreturn 'done';",
        };
        const r = await run(fns, event({ hang: true }), k);
        assert.equal(step(r.filter).value, true);
        failure(r.map, "HG_ERR_SANDBOX_TIMEOUT");
        assert.equal(step((await run(fns, event({ hang: false }), k)).map).value, "done");
        const spin = await run({ filter: "export default async () => { for (;;) await null; }" });
        failure(spin.filter, "HG_ERR_SANDBOX_TIMEOUT");
      });

      it("HG_ERR_SANDBOX_TIMEOUT for top-level code that never finishes", async () => {
        const r = await run({ filter: "while (true) {}\nexport default () => true" });
        failure(r.filter, "HG_ERR_SANDBOX_TIMEOUT");
      });

      it("HG_ERR_SANDBOX_MEMORY for a memory blow-up; the isolate is rebuilt for the next call", async () => {
        // A generous deadline so the heap limit, not the clock, stops the loop.
        const small = new Sandbox({ mode, timeoutMs: 5000, memoryLimitMb: 8 });
        try {
          const fns = {
            key: "oom@1",
            map: 'export default (e) => { if (e.data.blow) { const a = []; while (true) a.push("x".repeat(1e6)); } return "ok"; }',
          };
          assert.match(
            failure((await small.runRoute(fns, event({ blow: true }))).map, "HG_ERR_SANDBOX_MEMORY"),
            /8 MB/,
          );
          assert.equal(step((await small.runRoute(fns, event({ blow: false }))).map).value, "ok");
          assert.equal(small.stats().isolates, 1);
        } finally {
          small.dispose();
        }
      });

      it("after a run of fast events, a slow one still times out and the key recovers", async () => {
        const k = key("fast-then-slow");
        const fns = {
          filter: "export default (e) => { if (e.data.loop) for (;;) {} return e.data.n % 2 === 0; }",
        };
        for (let n = 0; n < 40; n++)
          assert.equal(step((await run(fns, event({ n }), k)).filter).value, n % 2 === 0);
        failure((await run(fns, event({ loop: true }), k)).filter, "HG_ERR_SANDBOX_TIMEOUT");
        for (let n = 0; n < 5; n++)
          assert.equal(step((await run(fns, event({ n }), k)).filter).value, n % 2 === 0);
      });
    });

    describe("isolation", () => {
      it("prototype pollution and global writes in one call do not reach the next call or another key", async () => {
        const k = key("polluter");
        const attack = `export default () => {
          const attempts = [
            () => { Object.prototype.polluted = 1; },
            () => { Array.prototype.push = () => 0; },
            () => { Array.prototype.map = null; },
            () => { JSON.parse = () => "hacked"; },
            () => { globalThis.leak = 1; },
            () => { Object.getPrototypeOf(function* () {}).prototype.next = null; },
            () => { Object.defineProperty(Object.prototype, "x", { get() { return 1; } }); },
            () => { Object.setPrototypeOf(Object.prototype, { polluted: 2 }); },
            () => { console.log = () => {}; },
          ];
          let blocked = 0;
          for (const a of attempts) { try { a(); } catch { blocked++; } }
          return blocked;
        }`;
        const r = await run({ map: attack }, invoice, k);
        assert.equal(step(r.map).value, 9, "every attempt throws");
        const unpolluted = `export default () => {
          console.log("still captured");
          return {
            polluted: ({}).polluted ?? null, x: ({}).x ?? null, leak: typeof leak,
            push: [1].push(2), map: [1].map((v) => v * 2), json: JSON.parse("[1]"),
          };
        }`;
        const expected = { polluted: null, x: null, leak: "undefined", push: 2, map: [2], json: [1] };
        const same = await run({ map: `${attack}\nexport const check = 1;` }, invoice, k);
        assert.equal(step(same.map).value, 9);
        const again = await run({ map: unpolluted }, invoice, key("other"));
        assert.deepEqual(step(again.map).value, expected);
        assert.deepEqual(step(again.map).logs, ["[log] still captured"]);
      });

      it("the same isolate does not see a previous call's pollution attempt", async () => {
        const k = key("shared");
        const fns = {
          map: `export default (e) => {
            if (e.data.attack) { try { Object.prototype.evil = true; } catch {} return "attacked"; }
            return { evil: ({}).evil ?? null };
          }`,
        };
        assert.equal(step((await run(fns, event({ attack: true }), k)).map).value, "attacked");
        assert.deepEqual(step((await run(fns, event({}), k)).map).value, { evil: null });
      });

      it("still allows ordinary assignments that shadow frozen builtin properties", async () => {
        const r = await run({
          map: `export default () => {
            const err = new Error();
            err.message = "set"; err.name = "Custom";
            const o = Object.assign({}, { toString: "own", constructor: 1 });
            const f = () => 1; f.toString = () => "f";
            return [String(err), o.toString, o.constructor, String(f)];
          }`,
        });
        assert.deepEqual(step(r.map).value, ["Custom: set", "own", 1, "f"]);
      });

      it("gives user code no way to the host", async () => {
        const attempts: Array<[string, RegExp]> = [
          ["return require('fs')", /ReferenceError: require is not defined/],
          ["return process.env", /ReferenceError: process is not defined/],
          ["return await import('fs')", /Not supported/],
          ["return this.constructor.constructor('return process')()", /TypeError/],
          [
            "return ({}).constructor.constructor('return process')()",
            /ReferenceError: process is not defined/,
          ],
          ["return Function('return this')().process.exit()", /TypeError/],
          ["return setTimeout(() => {}, 1)", /ReferenceError: setTimeout is not defined/],
          ["return new WebAssembly.Memory({ initial: 1 })", /ReferenceError: WebAssembly is not defined/],
          ["return new SharedArrayBuffer(8)", /ReferenceError: SharedArrayBuffer is not defined/],
          ["return Atomics.wait(new Int32Array(4), 0, 0)", /TypeError/],
        ];
        for (const [map, expected] of attempts) {
          assert.match(failure((await run({ map })).map, "HG_ERR_SANDBOX_THROW"), expected, map);
        }
        const globals = await run({ map: "return Object.getOwnPropertyNames(globalThis)" });
        const names = step(globals.map).value as string[];
        for (const name of ["require", "process", "Buffer", "setTimeout", "WebAssembly", "module", "ivm"]) {
          assert.ok(!names.includes(name), name);
        }
        assert.ok(names.includes("JSON") && names.includes("Math") && names.includes("console"));
        const imported = await run({ map: "import fs from 'fs';\nexport default () => fs" });
        assert.match(failure(imported.map, "HG_ERR_SANDBOX_SYNTAX"), /Imports are not allowed/);
        assert.equal(typeof (globalThis as Record<string, unknown>).leak, "undefined");
      });
    });

    describe("pool", () => {
      it("bounds concurrency per isolate: 200 concurrent calls on one key all complete correctly", async () => {
        const pool = new Sandbox({ mode, timeoutMs: 2000, memoryLimitMb: 32, maxConcurrentPerIsolate: 4 });
        try {
          const fns = {
            key: "busy@1",
            filter: "export default async (e) => { await null; return e.data.n % 3 !== 0; }",
            map: "let active = 0, peak = 0;\nexport default async (e) => { active++; peak = Math.max(peak, active); await null; active--; return { n: e.data.n * 2 }; }",
          };
          const runs = await Promise.all(
            Array.from({ length: 200 }, (_, n) => pool.runRoute(fns, event({ n }))),
          );
          runs.forEach((r: RouteRun, n) => {
            assert.equal(step(r.filter).value, n % 3 !== 0);
            if (n % 3 === 0) assert.equal(r.map, null);
            else assert.deepEqual(step(r.map).value, { n: n * 2 });
          });
          assert.equal(pool.stats().isolates, 1);
        } finally {
          pool.dispose();
        }
      });

      it("evicts least recently used idle isolates beyond maxIsolates", async () => {
        const pool = new Sandbox({ mode, timeoutMs: 1000, memoryLimitMb: 16, maxIsolates: 3 });
        try {
          const fns = (i: number) => ({
            key: `lru-${i}@1`,
            map: `let calls = 0;\nexport default () => [${i}, ++calls]`,
          });
          for (let i = 0; i < 8; i++) {
            assert.deepEqual(step((await pool.runRoute(fns(i), invoice)).map).value, [i, 1]);
            assert.ok(pool.stats().isolates <= 3, `${pool.stats().isolates} isolates`);
          }
          // 7 is still warm; 0 was evicted and starts again.
          assert.deepEqual(step((await pool.runRoute(fns(7), invoice)).map).value, [7, 2]);
          assert.deepEqual(step((await pool.runRoute(fns(0), invoice)).map).value, [0, 1]);
          await Promise.all(Array.from({ length: 10 }, (_, i) => pool.runRoute(fns(i), invoice)));
          assert.ok(pool.stats().isolates <= 3, `${pool.stats().isolates} isolates`);
        } finally {
          pool.dispose();
        }
      });

      it("dispose() releases every isolate", async () => {
        const pool = new Sandbox({ mode, timeoutMs: 1000, memoryLimitMb: 16 });
        await pool.runRoute({ key: "a@1", filter: "return true" }, invoice);
        await pool.runRoute({ key: "b@1", map: "return 1" }, invoice);
        assert.equal(pool.stats().isolates, 2);
        pool.dispose();
        assert.equal(pool.stats().isolates, 0);
        await assert.rejects(pool.runRoute({ key: "a@1", filter: "return true" }, invoice), /disposed/);
      });
    });
  });
}
