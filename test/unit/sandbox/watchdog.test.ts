import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cpuMsOfStat, mainThreadCpuMs } from "../../../src/sandbox/thread-cpu.ts";
import { callVerdict, childHung } from "../../../src/sandbox/watchdog.ts";

const limits = { marginMs: 5000, maxSilentMs: 60_000 };

describe("sandbox watchdog decisions", () => {
  it("a child heard from within the margin is never hung, whatever its CPU", () => {
    assert.equal(childHung({ silentMs: 5000, cpuSinceHeardMs: 50_000 }, limits), false);
    assert.equal(childHung({ silentMs: 10, cpuSinceHeardMs: null }, limits), false);
  });

  it("a silent child starved of CPU is not hung; one that burnt the margin without a loop turn is", () => {
    assert.equal(childHung({ silentMs: 30_000, cpuSinceHeardMs: 900 }, limits), false);
    assert.equal(childHung({ silentMs: 30_000, cpuSinceHeardMs: 4990 }, limits), false);
    assert.equal(childHung({ silentMs: 5001, cpuSinceHeardMs: 5000 }, limits), true);
  });

  it("silence past the longest bound is hung whatever the CPU says; unknown CPU falls back to silence", () => {
    assert.equal(childHung({ silentMs: 60_000, cpuSinceHeardMs: 0 }, limits), true);
    assert.equal(childHung({ silentMs: 5001, cpuSinceHeardMs: null }, limits), true);
  });

  it("a call past its worst case fails on its own; before that it waits", () => {
    assert.equal(callVerdict(100, { hard: 100 }), "wait");
    assert.equal(callVerdict(101, { hard: 100 }), "fail-call");
  });
});

describe("main thread CPU from /proc", () => {
  it("reads utime + stime in ms, counting fields from the last parenthesis of the name", () => {
    const stat = "4242 (node (sand) box) R 1 2 3 4 5 6 7 8 9 10 123 45 0 0 20 0 11 0 99\n";
    assert.equal(cpuMsOfStat(stat), (123 + 45) * 10);
    assert.equal(cpuMsOfStat("garbage"), null);
  });

  it("grows while this thread works, and is null for a process that does not exist", () => {
    const before = mainThreadCpuMs(process.pid);
    assert.notEqual(before, null);
    const start = before as number;
    let now = start;
    let n = 0;
    while (now <= start) {
      for (let i = 0; i < 1e5; i++) n += Math.sqrt(i);
      now = mainThreadCpuMs(process.pid) as number;
    }
    assert.ok(now > start && n > 0);
    assert.equal(mainThreadCpuMs(2 ** 30), null);
  });
});
