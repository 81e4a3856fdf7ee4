import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCliArgs, UsageError } from "../../../src/cli/args.ts";

describe("parseCliArgs", () => {
  it("reads each command with its options", () => {
    assert.deepEqual(parseCliArgs(["routes", "validate"]).paths, []);
    const apply = parseCliArgs([
      "routes",
      "apply",
      "routes/a.json",
      "--prune",
      "--url",
      "http://127.0.0.1:9",
    ]);
    assert.deepEqual(
      [apply.command, apply.paths, apply.prune, apply.url],
      ["apply", ["routes/a.json"], true, "http://127.0.0.1:9"],
    );
    const dry = parseCliArgs(["routes", "dry-run", "r.json", "--sample", "mailtrap/bounce"]);
    assert.deepEqual([dry.command, dry.paths, dry.sample], ["dry-run", ["r.json"], "mailtrap/bounce"]);
    assert.equal(parseCliArgs(["--help"]).command, "help");
    assert.equal(parseCliArgs(["routes", "plan", "-h"]).command, "help");
  });

  it("refuses what it does not know instead of ignoring it", () => {
    for (const argv of [
      [],
      ["route", "validate"],
      ["routes", "destroy"],
      ["routes", "validate", "--prune"],
      ["routes", "plan", "--force"],
      ["routes", "dry-run", "r.json"],
      ["routes", "dry-run", "r.json", "--sample", "a/b", "--event", "e.json"],
      ["routes", "dry-run", "--sample", "a/b"],
      ["routes", "export", "routes/"],
    ]) {
      assert.throws(() => parseCliArgs(argv), UsageError, argv.join(" "));
    }
  });
});
