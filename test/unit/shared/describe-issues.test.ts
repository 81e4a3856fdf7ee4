import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventsBodySchema } from "../../../src/api/events-api.ts";
import { describeIssues } from "../../../src/shared/validation-issues.ts";

const issuesOf = (value: unknown) => {
  const r = EventsBodySchema.safeParse(value);
  assert.equal(r.success, false);
  return describeIssues(r.error?.issues ?? []);
};

describe("describeIssues", () => {
  it("reports the branch of the events union that matched the shape", () => {
    assert.deepEqual(issuesOf([{ type: "x", data: 1 }, { data: 1 }]), [
      { path: "1.type", message: "expected string, received undefined" },
    ]);
    assert.deepEqual(
      issuesOf({ events: [{ type: "x", data: 1, extra: true }] }).map((d) => d.path),
      ["events.0.extra"],
    );
    assert.deepEqual(
      issuesOf({ type: 5, data: 1 }).map((d) => d.path),
      ["type"],
    );
  });

  it("names each unknown field", () => {
    assert.deepEqual(issuesOf({ type: "x", data: 1, colour: "red", size: 2 }), [
      { path: "colour", message: "unknown field" },
      { path: "size", message: "unknown field" },
    ]);
  });
});
