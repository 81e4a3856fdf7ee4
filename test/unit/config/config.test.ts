import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../../src/config/index.ts";

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig({});
    assert.equal(c.PORT, 3000);
    assert.equal(c.HOST, "127.0.0.1");
    assert.equal(c.HOOKGATE_ROLE, "all");
    assert.deepEqual(c.HOOKGATE_TARGET_ALLOW, []);
    assert.equal(c.REDIS_URL, undefined);
  });

  it("parses the allow list of CIDRs", () => {
    const c = loadConfig({ HOOKGATE_TARGET_ALLOW: "127.0.0.0/8, ::1/128,10.1.2.3" });
    assert.deepEqual(c.HOOKGATE_TARGET_ALLOW, ["127.0.0.0/8", "::1/128", "10.1.2.3"]);
  });

  it("names every invalid variable", () => {
    assert.throws(
      () =>
        loadConfig({
          PORT: "seventy",
          HOOKGATE_ROLE: "boss",
          HOOKGATE_TARGET_ALLOW: "10.0.0.0/33",
          REDIS_URL: "http://x",
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        for (const name of ["PORT", "HOOKGATE_ROLE", "HOOKGATE_TARGET_ALLOW", "REDIS_URL"]) {
          assert.match(err.message, new RegExp(name));
        }
        return true;
      },
    );
  });

  it("reads the sandbox process's RSS ceiling, refusing one too small for the process itself", () => {
    assert.equal(loadConfig({}).HOOKGATE_SANDBOX_RSS_MB, 1536);
    assert.equal(loadConfig({ HOOKGATE_SANDBOX_RSS_MB: "4096" }).HOOKGATE_SANDBOX_RSS_MB, 4096);
    assert.throws(() => loadConfig({ HOOKGATE_SANDBOX_RSS_MB: "64" }), /HOOKGATE_SANDBOX_RSS_MB/);
  });

  it("refuses a short admin token", () => {
    assert.throws(() => loadConfig({ HOOKGATE_ADMIN_TOKEN: "short" }), /HOOKGATE_ADMIN_TOKEN/);
  });
});
