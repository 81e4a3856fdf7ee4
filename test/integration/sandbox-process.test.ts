/**
 * What only the process mode has: the child's clean environment, crash and hang supervision,
 * restart, dispose, and an idle host that exits. Real processes throughout (Linux /proc).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { HookgateEvent } from "../../src/events/event-schema.ts";
import { type ChildLoss, createSandbox, Sandbox } from "../../src/sandbox/index.ts";
import { waitUntil } from "../helpers/wait.ts";

const event: HookgateEvent = {
  id: "evt_proc",
  type: "messageNew",
  source: null,
  account: null,
  occurredAt: "2025-01-01T10:00:00.000Z",
  receivedAt: "2025-01-01T10:00:00.100Z",
  data: { n: 1 },
};
const OK = { key: "ok@1", map: "export default (e) => ({ n: e.data.n + 1 })" };
/** Pending until the route's deadline: long enough to be in flight when the child is killed. */
const SLOW = { key: "slow@1", map: "export default async () => { for (;;) await null; }" };

function alive(pid: number): boolean {
  // A zombie still has a /proc entry until it is reaped; its state is Z.
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function started(sandbox: Sandbox): Promise<number> {
  assert.deepEqual((await sandbox.runRoute(OK, event)).map?.value, { n: 2 });
  const pid = sandbox.childPid();
  assert.ok(pid !== null && pid !== process.pid, "a child process runs the isolates");
  return pid;
}

describe("sandbox process", () => {
  it("createSandbox builds either mode; inline has no child", async () => {
    const inline = createSandbox({ mode: "inline", timeoutMs: 1000, memoryLimitMb: 16 });
    const child = createSandbox({ mode: "process", timeoutMs: 1000, memoryLimitMb: 16 });
    try {
      assert.equal(inline.mode, "inline");
      assert.equal(child.mode, "process");
      assert.deepEqual((await inline.runRoute(OK, event)).map?.value, { n: 2 });
      assert.equal(inline.childPid(), null);
      assert.equal(child.childPid(), null, "started on the first call");
      await started(child);
      assert.throws(() => createSandbox({ mode: "process", timeoutMs: 0, memoryLimitMb: 16 }), RangeError);
    } finally {
      inline.dispose();
      child.dispose();
    }
  });

  it("starts the child with PATH only: no REDIS_URL, admin token or other host variable", async () => {
    process.env.REDIS_URL = "redis://:hunter2@127.0.0.1:6379";
    process.env.HOOKGATE_ADMIN_TOKEN = "secret-admin-token-for-the-test";
    process.env.HOOKGATE_TEST_SECRET = "whsec_not_for_the_child";
    const sandbox = new Sandbox({ mode: "process", timeoutMs: 1000, memoryLimitMb: 16 });
    try {
      const pid = await started(sandbox);
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter(Boolean);
      const names = environ.map((kv) => kv.slice(0, kv.indexOf("=")));
      assert.ok(!names.includes("REDIS_URL") && !names.includes("HOOKGATE_ADMIN_TOKEN"), names.join());
      // Node's own IPC plumbing (the channel's fd and serialisation) is all that is added to PATH.
      assert.deepEqual(
        names.filter((n) => !n.startsWith("NODE_CHANNEL_")),
        ["PATH"],
      );
      for (const secret of ["hunter2", "secret-admin-token", "whsec_"]) {
        assert.ok(!environ.some((kv) => kv.includes(secret)), secret);
      }
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      for (const secret of ["hunter2", "secret-admin-token", "whsec_"]) assert.ok(!cmdline.includes(secret));
    } finally {
      sandbox.dispose();
      delete process.env.REDIS_URL;
      delete process.env.HOOKGATE_ADMIN_TOKEN;
      delete process.env.HOOKGATE_TEST_SECRET;
    }
  });

  it("kill -9 of the child fails the calls in flight with HG_ERR_SANDBOX_CRASHED, says so; the next call works", async () => {
    const losses: ChildLoss[] = [];
    const sandbox = new Sandbox({
      mode: "process",
      timeoutMs: 5000,
      memoryLimitMb: 16,
      onChildLost: (loss) => losses.push(loss),
    });
    try {
      const pid = await started(sandbox);
      const inFlight = [sandbox.runRoute(SLOW, event), sandbox.runRoute({ ...SLOW, key: "slow@2" }, event)];
      // Let the batch reach the child before killing it.
      // Give the batch time to reach the child (calls sent but unanswered fail the same way).
      await new Promise((r) => setTimeout(r, 100));
      process.kill(pid, "SIGKILL");
      for (const run of await Promise.all(inFlight)) {
        assert.equal(run.filter, null);
        assert.equal(run.map?.ok, false);
        assert.equal(run.map?.error?.code, "HG_ERR_SANDBOX_CRASHED", JSON.stringify(run.map));
        assert.match(run.map?.error?.message ?? "", /SIGKILL/);
      }
      assert.equal(losses.length, 1, JSON.stringify(losses));
      assert.equal(losses[0]?.code, "HG_ERR_SANDBOX_CRASHED");
      assert.equal(losses[0]?.pid, pid);
      assert.equal(losses[0]?.callsLost, 2);
      assert.match(losses[0]?.message ?? "", /SIGKILL/);
      const next = await started(sandbox);
      assert.notEqual(next, pid, "a new child");
      assert.equal(alive(pid), false);
      assert.equal(losses.length, 1, "starting a new child is not a loss");
    } finally {
      sandbox.dispose();
    }
  });

  it("a child whose event loop hangs is killed after the deadline + margin and replaced", async () => {
    const sandbox = new Sandbox({ mode: "process", timeoutMs: 100, memoryLimitMb: 16, debugHooks: true });
    try {
      const pid = await started(sandbox);
      sandbox.debug("hang");
      const run = await sandbox.runRoute(OK, event);
      assert.equal(run.map?.error?.code, "HG_ERR_SANDBOX_TIMEOUT", JSON.stringify(run.map));
      await waitUntil(() => !alive(pid));
      assert.notEqual(await started(sandbox), pid);
    } finally {
      sandbox.dispose();
    }
  });

  it("a healthy child is not killed while calls queue behind each other for longer than one deadline", async () => {
    const sandbox = new Sandbox({
      mode: "process",
      timeoutMs: 400,
      memoryLimitMb: 16,
      maxConcurrentPerIsolate: 1,
    });
    try {
      const pid = await started(sandbox);
      // Each call keeps the only slot ~150 ms (under its 400 ms deadline): the last answer comes
      // after ~1.8 s, past one deadline + margin (1.4 s), from a child that kept beating.
      const fns = {
        key: "queue@1",
        map: "export default async (e) => { const t = Date.now(); while (Date.now() - t < 150) await null; return e.data.n; }",
      };
      const runs = await Promise.all(
        Array.from({ length: 12 }, (_, n) => sandbox.runRoute(fns, { ...event, data: { n } })),
      );
      assert.deepEqual(
        runs.map((r) => r.map?.value),
        Array.from({ length: 12 }, (_, n) => n),
      );
      assert.equal(sandbox.childPid(), pid, "same child");
    } finally {
      sandbox.dispose();
    }
  });

  it("an answer out of protocol fails its call and the child is replaced", async () => {
    const sandbox = new Sandbox({ mode: "process", timeoutMs: 1000, memoryLimitMb: 16, debugHooks: true });
    try {
      const pid = await started(sandbox);
      sandbox.debug("garble");
      const run = await sandbox.runRoute(OK, event);
      assert.equal(run.map?.error?.code, "HG_ERR_SANDBOX_CRASHED", JSON.stringify(run));
      assert.match(run.map?.error?.message ?? "", /invalid answer/);
      await waitUntil(() => !alive(pid));
      assert.notEqual(await started(sandbox), pid);
    } finally {
      sandbox.dispose();
    }
  });

  it("the routes of many walks in one tick each get their own answer (one event's JSON crosses once)", async () => {
    const sandbox = new Sandbox({ mode: "process", timeoutMs: 1000, memoryLimitMb: 16 });
    try {
      const routes = Array.from({ length: 5 }, (_, r) => ({
        key: `walk-${r}@1`,
        filter: r === 0 ? "export default (e) => { e.data.n = -1; return true; }" : null,
        map: `export default (e) => ({ route: ${r}, id: e.id, n: e.data.n })`,
      }));
      // Walks of 40 events at once, as the walker does: every route of an event in turn.
      const walks = Array.from({ length: 40 }, (_, i) => {
        const ev = { ...event, id: `evt_${i}`, data: { n: i } };
        return Promise.all(routes.map((fns) => sandbox.runRoute(fns, ev)));
      });
      for (const [i, runs] of (await Promise.all(walks)).entries()) {
        assert.deepEqual(
          runs.map((r) => r.map?.value),
          routes.map((_, r) => ({ route: r, id: `evt_${i}`, n: i })),
        );
      }
    } finally {
      sandbox.dispose();
    }
  });

  it("reports the child's isolates and heap figures", async () => {
    const sandbox = new Sandbox({ mode: "process", timeoutMs: 1000, memoryLimitMb: 16 });
    try {
      await started(sandbox);
      await sandbox.runRoute({ ...OK, key: "ok@2" }, event);
      assert.equal(sandbox.stats().isolates, 2);
      const heap = sandbox.heapStatistics();
      assert.ok(heap.isolates >= 1, JSON.stringify(heap));
      assert.ok(heap.usedHeapBytes > 0 && heap.heapLimitBytes > 0, JSON.stringify(heap));
    } finally {
      sandbox.dispose();
    }
  });

  it("dispose() kills the child and leaves no process behind", async () => {
    const sandbox = new Sandbox({ mode: "process", timeoutMs: 1000, memoryLimitMb: 16 });
    const pid = await started(sandbox);
    assert.equal(sandbox.stats().isolates, 1);
    sandbox.dispose();
    assert.equal(sandbox.childPid(), null);
    assert.equal(sandbox.stats().isolates, 0);
    await waitUntil(() => !alive(pid));
    await assert.rejects(sandbox.runRoute(OK, event), /disposed/);
  });

  it("an idle host process exits on its own, and its child with it", async () => {
    const script = `
      import { Sandbox } from ${JSON.stringify(new URL("../../src/sandbox/index.ts", import.meta.url).href)};
      const s = new Sandbox({ mode: "process", timeoutMs: 1000, memoryLimitMb: 16 });
      const run = await s.runRoute({ key: "k@1", map: "return 42" }, { id: "e", data: {} });
      console.log(JSON.stringify({ value: run.map.value, pid: s.childPid() }));
    `;
    const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(out.status, 0, out.stderr);
    const { value, pid } = JSON.parse(out.stdout) as { value: number; pid: number };
    assert.equal(value, 42);
    await waitUntil(() => !alive(pid));
  });
});

describe("sandbox process memory outside the heap (issue 16, item 3)", () => {
  it("a route that keeps Intl objects is recycled, and a child past its RSS ceiling is replaced after its calls finish", async () => {
    // A small ceiling so that the pattern (a map keeping Intl.DateTimeFormat objects,
    // whose ICU memory no heap limit sees) crosses it in seconds.
    const sandbox = new Sandbox({ mode: "process", timeoutMs: 60_000, memoryLimitMb: 64, maxRssMb: 160 });
    try {
      const pid = await started(sandbox);
      const keeper = (r: number) => ({
        key: `intl-${r}@1`,
        map: `const kept = new Map(); let n = 0;\nexport default () => { for (let i = 0; i < 300; i++) kept.set(n++, new Intl.DateTimeFormat("en-US", { timeZone: "Europe/Paris", dateStyle: "full" })); return kept.size; }`,
      });
      const answers: unknown[] = [];
      // Each route keeps 900 objects (~25 MB outside its heap, under the half of its budget that
      // recycles it); eight of them take the child past its ceiling. Calls go on until a new
      // child answers: every one of them, on either child, must succeed.
      for (let round = 1; round <= 3; round++) {
        const runs = await Promise.all(
          Array.from({ length: 8 }, (_, r) => sandbox.runRoute(keeper(r), event)),
        );
        answers.push(...runs.map((run) => run.map?.value ?? run.map?.error));
      }
      await waitUntil(
        async () => {
          const run = await sandbox.runRoute(OK, event);
          answers.push(run.map?.value ?? run.map?.error);
          return sandbox.childPid() !== pid;
        },
        60_000,
        "a new sandbox process",
      );
      for (const a of answers)
        assert.ok(typeof a === "number" || (a as { n?: number }).n === 2, JSON.stringify(a));
      await waitUntil(() => !alive(pid), 15_000, "the old child to go");
      // The one Intl object too many fails its step for memory; the child lives on.
      const burst = await sandbox.runRoute(
        {
          key: "intl-burst@1",
          map: "export default () => { const k = []; for (;;) k.push(new Intl.NumberFormat('de')); }",
        },
        event,
      );
      assert.equal(burst.map?.error?.code, "HG_ERR_SANDBOX_MEMORY", JSON.stringify(burst.map));
      assert.deepEqual((await sandbox.runRoute(OK, event)).map?.value, { n: 2 });
    } finally {
      sandbox.dispose();
    }
  });
});
