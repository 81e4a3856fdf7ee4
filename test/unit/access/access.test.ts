import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type KeyRecord, keyIsLive } from "../../../src/access/api-key.ts";
import { auditDiff } from "../../../src/access/audit-diff.ts";
import { missingScopes, withScopeDoc } from "../../../src/access/scopes.ts";

describe("audit diff", () => {
  const stored = (secret: string, header: string) => ({
    filter: "f1",
    target: { headers: { "X-Api-Key": header, Accept: "json" }, signing: { scheme: "sw", secret } },
  });
  const shown = (raw: ReturnType<typeof stored>) => ({
    filter: raw.filter,
    target: { headers: { "X-Api-Key": "[redacted]", Accept: "json" }, signing: { scheme: "sw" } },
  });
  const snap = (raw: ReturnType<typeof stored>) => ({ raw, shown: shown(raw) });

  it("lists only changed fields, secrets as [redacted] changes", () => {
    const before = stored("s1", "h1");
    const after = { ...stored("s2", "h2"), filter: "f2" };
    assert.deepEqual(auditDiff(snap(before), snap(after)), [
      { path: "filter", before: "f1", after: "f2" },
      { path: "target.headers.X-Api-Key", before: "[redacted]", after: "[redacted]" },
      { path: "target.signing.secret", before: "[redacted]", after: "[redacted]" },
    ]);
    assert.deepEqual(auditDiff(snap(before), snap(stored("s1", "h1"))), []);
  });

  it("shows a creation without before and a deletion without after", () => {
    const raw = stored("s1", "h1");
    const created = auditDiff(null, snap(raw));
    assert.deepEqual(
      created.map((c) => c.path),
      ["filter", "target"],
    );
    assert.ok(created.every((c) => !("before" in c)));
    assert.ok(!JSON.stringify(created).includes("s1") && !JSON.stringify(created).includes("h1"));
    const deleted = auditDiff(snap(raw), null);
    assert.ok(deleted.every((c) => !("after" in c)));
  });
});

describe("keys and scopes", () => {
  const record: KeyRecord = {
    id: "key_1",
    name: "k",
    scopes: ["routes:read"],
    createdAt: "2026-01-01T00:00:00.000Z",
    expiresAt: "2026-02-01T00:00:00.000Z",
  };
  it("refuses a key from its expiresAt on; one without never expires", () => {
    assert.equal(keyIsLive(record, Date.parse("2026-01-31T23:59:59.999Z")), true);
    assert.equal(keyIsLive(record, Date.parse("2026-02-01T00:00:00.000Z")), false);
    assert.equal(keyIsLive({ ...record, expiresAt: null }, Date.parse("2099-01-01T00:00:00Z")), true);
  });

  it("names missing scopes and documents an operation's scope", () => {
    assert.deepEqual(missingScopes(["routes:read"], ["routes:read", "routes:write"]), ["routes:write"]);
    const doc = withScopeDoc({ summary: "x", description: "Does x." }, "routes:write");
    assert.equal(doc["x-scope" as keyof typeof doc], "routes:write");
    assert.match(doc.description, /Does x\.\n\nNeeds scope `routes:write`/);
    const same = { summary: "y" };
    assert.equal(withScopeDoc(same, undefined), same);
  });
});
