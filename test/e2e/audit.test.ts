import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { AuditLog } from "../../src/access/audit-log.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

/**
 * The audit trail: changes made through the API with a scoped key and the admin token, read back
 * from GET /v1/audit with their diffs, and no secret in any of it. API role only: nothing saved
 * here delivers.
 */

let redis: RedisServer;
let gw: TestGateway;

before(async () => {
  redis = await startRedisServer({ appendonly: false });
  gw = await startTestGateway(redis.url, { HOOKGATE_ROLE: "api", HOOKGATE_AUDIT_RETENTION_COUNT: "100" });
});

after(async () => {
  await gw?.close();
  await redis?.stop();
});

const HEADER_SECRET = "hdr-secret-0123456789abcdef";
const NEW_HEADER_SECRET = "hdr-secret-fedcba9876543210";
const FILTER_BEFORE = "export default (event) => event.type === 'messageNew';";
const FILTER_AFTER = "export default (event) => event.type === 'messageBounce';";

interface Entry {
  keyId: string;
  keyName: string;
  requestId: string;
  operation: string;
  status: number;
  subject: { type: string; id: string | null };
  routeId: string | null;
  changes: { path: string; before?: unknown; after?: unknown }[];
  request?: unknown;
  result?: unknown;
}

async function audit(query = ""): Promise<Entry[]> {
  const res = await gw.call("GET", `/v1/audit${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.entries;
}

describe("audit trail", () => {
  let routeId: string;
  let signingSecret: string;
  let editor: { id: string; key: string };

  it("records a filter change with the key, the request id and the diff, and no secret", async () => {
    const made = await gw.call("POST", "/v1/keys", {
      name: "editor",
      scopes: ["routes:read", "routes:write"],
    });
    editor = made.json;
    const created = await gw.call("POST", "/v1/routes", {
      name: "audited",
      filter: FILTER_BEFORE,
      target: { url: "http://127.0.0.1:9/hook", headers: { "X-Api-Key": HEADER_SECRET } },
    });
    assert.equal(created.status, 201);
    routeId = created.json.id;
    signingSecret = created.json.target.signing.secret;
    assert.match(signingSecret, /^whsec_/);

    const changed = await gw.call("PUT", `/v1/routes/${routeId}/filter`, FILTER_AFTER, {
      "content-type": "application/javascript",
      authorization: `Bearer ${editor.key}`,
    });
    assert.equal(changed.status, 200);

    const [latest, creation] = await audit(`?routeId=${routeId}`);
    assert.ok(latest && creation);
    assert.equal(latest.operation, "PUT /v1/routes/:id/:kind");
    assert.equal(latest.keyId, editor.id);
    assert.equal(latest.keyName, "editor");
    assert.equal(latest.requestId, changed.headers["x-request-id"]);
    assert.deepEqual(latest.subject, { type: "route", id: routeId });
    assert.deepEqual(
      latest.changes.find((c) => c.path === "filter"),
      { path: "filter", before: FILTER_BEFORE, after: FILTER_AFTER },
    );
    assert.deepEqual(
      latest.changes.find((c) => c.path === "version"),
      { path: "version", before: 1, after: 2 },
    );
    assert.deepEqual(
      latest.changes.filter((c) => !["filter", "version", "updatedAt"].includes(c.path)),
      [],
      "only what changed",
    );

    assert.equal(creation.operation, "POST /v1/routes");
    assert.equal(creation.keyId, "admin");
    assert.equal(creation.keyName, "admin");
    const target = creation.changes.find((c) => c.path === "target")?.after as {
      headers: Record<string, string>;
      signing: Record<string, unknown>;
    };
    assert.equal(target.headers["X-Api-Key"], "[redacted]");
    assert.equal(target.signing.secret, undefined);

    const all = JSON.stringify(await audit());
    assert.ok(!all.includes(HEADER_SECRET), "no literal header value");
    assert.ok(!all.includes(signingSecret), "no signing secret");
    assert.ok(!all.includes(editor.key), "no key");
  });

  it("shows a changed header value and a rotated secret as changed, redacted", async () => {
    const patched = await gw.call("PATCH", `/v1/routes/${routeId}`, {
      target: { headers: { "X-Api-Key": NEW_HEADER_SECRET } },
    });
    assert.equal(patched.status, 200);
    const [headerChange] = await audit(`?routeId=${routeId}&limit=1`);
    assert.deepEqual(
      headerChange?.changes.find((c) => c.path === "target.headers.X-Api-Key"),
      {
        path: "target.headers.X-Api-Key",
        before: "[redacted]",
        after: "[redacted]",
      },
    );

    const rotated = await gw.call("POST", `/v1/routes/${routeId}/secret/rotate`, { graceS: 60 });
    assert.equal(rotated.status, 200);
    const newSecret = rotated.json.target.signing.secret;
    const [rotation] = await audit(`?routeId=${routeId}&limit=1`);
    assert.equal(rotation?.operation, "POST /v1/routes/:id/secret/rotate");
    assert.deepEqual(
      rotation?.changes.find((c) => c.path === "target.signing.secret"),
      {
        path: "target.signing.secret",
        before: "[redacted]",
        after: "[redacted]",
      },
    );
    const all = JSON.stringify(await audit());
    for (const secret of [HEADER_SECRET, NEW_HEADER_SECRET, signingSecret, newSecret])
      assert.ok(!all.includes(secret), "no secret in the trail");
  });

  it("records order, sources, keys, redrives, held drops, target resumes and deletes; not failures", async () => {
    const second = await gw.call("POST", "/v1/routes", {
      name: "second",
      target: { url: "http://127.0.0.1:9/two" },
    });
    await gw.call("PUT", "/v1/routes/order", { ids: [second.json.id, routeId] });
    const source = await gw.call("POST", "/v1/sources", { name: "ee", kind: "emailengine" });
    assert.equal(source.status, 201);
    const redrive = await gw.call("POST", `/v1/routes/${routeId}/redrive`, { since: "2026-01-01T00:00:00Z" });
    assert.equal(redrive.status, 202);
    await gw.call("PATCH", `/v1/routes/${routeId}`, { enabled: false });
    assert.equal((await gw.call("POST", `/v1/routes/${routeId}/held/drop`)).status, 200);
    const targets = (await gw.call("GET", "/v1/targets")).json.targets as { id: string; routes: string[] }[];
    const target = targets.find((t) => t.routes.includes(routeId));
    assert.ok(target);
    assert.equal((await gw.call("POST", `/v1/targets/${target.id}/resume`)).status, 200);
    assert.equal((await gw.call("DELETE", `/v1/keys/${editor.id}`)).status, 204);
    assert.equal((await gw.call("DELETE", `/v1/routes/${second.json.id}`)).status, 204);
    // Refused changes leave no entry.
    assert.equal((await gw.call("PATCH", "/v1/routes/rte_nope", { enabled: true })).status, 404);
    assert.equal(
      (
        await gw.call("PUT", `/v1/routes/${routeId}/filter`, "export default (", {
          "content-type": "application/javascript",
        })
      ).status,
      400,
    );

    const entries = await audit("?limit=9");
    assert.deepEqual(
      entries.map((e) => e.operation),
      [
        "DELETE /v1/routes/:id",
        "DELETE /v1/keys/:id",
        "POST /v1/targets/:id/resume",
        "POST /v1/routes/:id/held/drop",
        "PATCH /v1/routes/:id",
        "POST /v1/routes/:id/redrive",
        "POST /v1/sources",
        "PUT /v1/routes/order",
        "POST /v1/routes",
      ],
    );
    const [del, keyDel, resume, drop, disable, redriven, src, order] = entries;
    assert.equal(del?.changes.find((c) => c.path === "name")?.before, "second");
    assert.equal(del?.changes.find((c) => c.path === "name")?.after, undefined);
    assert.deepEqual(keyDel?.changes.find((c) => c.path === "scopes")?.before, [
      "routes:read",
      "routes:write",
    ]);
    assert.deepEqual(resume?.subject, { type: "target", id: target.id });
    assert.deepEqual(drop?.result, { dropped: 0 });
    assert.deepEqual(
      disable?.changes.find((c) => c.path === "enabled"),
      { path: "enabled", before: true, after: false },
    );
    assert.deepEqual(redriven?.request, { since: "2026-01-01T00:00:00Z" });
    assert.deepEqual(redriven?.result, { redriven: 0, scanned: 0 });
    assert.equal(src?.subject.id, source.json.id);
    assert.equal(src?.changes.find((c) => c.path === "secret")?.after, "[redacted]");
    assert.ok(!JSON.stringify(entries).includes(source.json.secret), "no source secret");
    assert.deepEqual(order?.changes, [
      { path: "ids", before: [routeId, second.json.id], after: [second.json.id, routeId] },
    ]);
  });

  it("records a rollback as the change it makes", async () => {
    const made = await gw.call("POST", "/v1/routes", {
      name: "rolled",
      filter: FILTER_BEFORE,
      target: { url: "http://127.0.0.1:9/three" },
    });
    const id = made.json.id;
    await gw.call("PUT", `/v1/routes/${id}/filter`, FILTER_AFTER, {
      "content-type": "application/javascript",
    });
    const rolled = await gw.call("POST", `/v1/routes/${id}/rollback`, { version: 1 });
    assert.equal(rolled.status, 200, JSON.stringify(rolled.json));
    const [entry] = await audit(`?routeId=${id}&limit=1`);
    assert.equal(entry?.operation, "POST /v1/routes/:id/rollback");
    assert.deepEqual(
      entry?.changes.find((c) => c.path === "filter"),
      {
        path: "filter",
        before: FILTER_AFTER,
        after: FILTER_BEFORE,
      },
    );
    await gw.call("DELETE", `/v1/routes/${id}`);
  });

  it("filters by key, route and time, newest first", async () => {
    const mine = await audit("?keyId=admin");
    assert.ok(mine.length > 0 && mine.every((e) => e.keyId === "admin"));
    assert.ok(mine.length > (await audit(`?routeId=${routeId}`)).length);
    const all = await audit("?limit=1000");
    const times = all.map((e) => Date.parse((e as unknown as { at: string }).at));
    assert.deepEqual(
      times,
      [...times].sort((x, y) => y - x),
    );
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.deepEqual(await audit(`?since=${future}`), []);
    const bad = await gw.call("GET", `/v1/audit?since=${future}&until=2020-01-01T00:00:00Z`);
    assert.equal(bad.status, 400);
  });

  it("keeps at most HOOKGATE_AUDIT_RETENTION_COUNT entries, and none older than the retention", async () => {
    for (let i = 0; i < 110; i++) await gw.call("PATCH", `/v1/routes/${routeId}`, { name: `n${i}` });
    const kept = await audit("?limit=1000");
    assert.equal(kept.length, 100);
    assert.equal(kept[0]?.changes.find((c) => c.path === "name")?.after, "n109");

    // Age: an append made "two hours later" trims what is older than an hour before it.
    const raw = new Redis(redis.url);
    try {
      const log = new AuditLog(raw, `${gw.prefix}-age`, 3600, 1000);
      const entry = {
        keyId: "admin",
        keyName: "admin",
        requestId: "r",
        operation: "PATCH /v1/routes/:id",
        status: 200,
        subject: { type: "route", id: "rte_x" },
        routeId: "rte_x",
        changes: [],
      };
      await log.append(entry, Date.now());
      assert.equal((await log.query({ limit: 10 })).length, 1);
      await log.append(entry, Date.now() + 2 * 3_600_000);
      assert.equal((await log.query({ limit: 10 })).length, 0, "the entry older than the retention is gone");
    } finally {
      raw.disconnect();
    }
  });
});
