import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseWhen, windowsOf } from "../../../src/cli/redrive-command.ts";

describe("redrive windows", () => {
  it("reads an ISO time or a duration back from now", () => {
    const now = Date.parse("2026-11-23T12:00:00Z");
    assert.equal(parseWhen("90m", now), now - 90 * 60_000);
    assert.equal(parseWhen("6h", now), now - 6 * 3_600_000);
    assert.equal(parseWhen("2d", now), now - 2 * 86_400_000);
    assert.equal(parseWhen("2026-11-23T10:00:00Z", now), Date.parse("2026-11-23T10:00:00Z"));
    assert.throws(() => parseWhen("yesterday", now), /neither an ISO 8601 time nor a duration/);
  });

  it("covers the range with consecutive windows that neither overlap nor leave gaps", () => {
    const w = windowsOf(1_000, 101_000, 20);
    assert.equal(w.length, 20);
    assert.equal(w[0]?.[0], 1_000);
    assert.equal(w.at(-1)?.[1], 101_000);
    for (let i = 1; i < w.length; i++) assert.equal(w[i]?.[0], (w[i - 1]?.[1] ?? 0) + 1);
    assert.deepEqual(windowsOf(5_000, 5_000), [[5_000, 5_000]], "an instant is one window");
    assert.equal(windowsOf(0, 2_500).length, 3, "no window shorter than a second");
  });
});
