import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { SCOPES } from "../../src/access/scopes.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { waitUntil } from "../helpers/wait.ts";

/**
 * Scoped API keys: two gateway processes' worth of API (two in-process gateways on one Redis and
 * one key prefix), keys made on one and presented to the other, and the CLI run with a key.
 * API role only: no route saved here delivers.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/hookgate.js");

let redis: RedisServer;
let a: TestGateway;
let b: TestGateway;
let raw: Redis;

before(async () => {
  redis = await startRedisServer({ appendonly: false });
  a = await startTestGateway(redis.url, { HOOKGATE_ROLE: "api" });
  b = await startTestGateway(redis.url, { HOOKGATE_ROLE: "api", HOOKGATE_KEY_PREFIX: a.prefix });
  raw = new Redis(redis.url);
});

after(async () => {
  raw?.disconnect();
  await a?.close();
  await b?.close();
  await redis?.stop();
});

const ROUTE = { name: "keys-test", target: { url: "http://127.0.0.1:9/hook" } };

async function makeKey(scopes: string[], name = `k-${scopes.join("+")}`) {
  const res = await a.call("POST", "/v1/keys", { name, scopes });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json as { id: string; name: string; scopes: string[]; key: string };
}

const as = (gw: TestGateway, key: string) => (method: string, url: string, body?: unknown) =>
  gw.call(method, url, body, { authorization: `Bearer ${key}` });

describe("scoped API keys", () => {
  it("shows a key once, stores only its hash, and lists keys without them", async () => {
    const made = await makeKey(["routes:read"], "reader");
    assert.match(made.key, /^hgk_[A-Za-z0-9_-]{43}$/);
    assert.match(made.id, /^key_/);
    assert.deepEqual(made.scopes, ["routes:read"]);
    const list = await a.call("GET", "/v1/keys");
    assert.equal(list.status, 200);
    const listed = list.json.keys.find((k: { id: string }) => k.id === made.id);
    assert.deepEqual(Object.keys(listed).sort(), [
      "createdAt",
      "expiresAt",
      "id",
      "lastUsedAt",
      "name",
      "scopes",
    ]);
    assert.ok(!JSON.stringify(list.json).includes(made.key));
    // Nothing under the prefix holds the key itself.
    for (const k of await raw.keys(`${a.prefix}:keys*`)) {
      const fields = await raw.hgetall(k);
      assert.ok(!JSON.stringify(fields).includes(made.key), k);
    }
    // Used once, on the other process: lastUsedAt is noted there without holding the request up.
    const before = Date.now();
    assert.equal((await as(b, made.key)("GET", "/v1/routes")).status, 200);
    const used = await waitUntil(async () => {
      const keys = (await a.call("GET", "/v1/keys")).json.keys as { id: string; lastUsedAt: string | null }[];
      return keys.find((k) => k.id === made.id)?.lastUsedAt ?? undefined;
    });
    assert.ok(Date.parse(used) >= before - 1000, used);
  });

  it("refuses a write to a routes:read key with 403 naming the scope", async () => {
    const reader = await makeKey(["routes:read"]);
    const call = as(a, reader.key);
    assert.equal((await call("GET", "/v1/routes")).status, 200);
    const denied = await call("POST", "/v1/routes", ROUTE);
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.code, "HG_ERR_FORBIDDEN");
    assert.match(denied.json.error.message, /routes:write/);
    assert.deepEqual(denied.json.error.details, [
      { path: "scope", message: "needs routes:write", scope: "routes:write" },
    ]);
    assert.equal((await a.call("GET", "/v1/routes")).json.routes.length, 0, "nothing was created");
    for (const [method, url, scope] of [
      ["POST", "/v1/events", "events:write"],
      ["GET", "/v1/deliveries", "deliveries:read"],
      ["GET", "/v1/sources", "sources:read"],
      ["GET", "/v1/targets", "targets:read"],
      ["GET", "/v1/keys", "keys:admin"],
      ["GET", "/v1/audit", "audit:read"],
    ] as const) {
      const res = await call(method, url, method === "POST" ? { type: "x", data: {} } : undefined);
      assert.equal(res.status, 403, `${method} ${url}`);
      assert.match(res.json.error.message, new RegExp(scope), `${method} ${url}`);
    }
    const writer = await makeKey(["routes:read", "routes:write"]);
    const created = await as(a, writer.key)("POST", "/v1/routes", ROUTE);
    assert.equal(created.status, 201);
    await a.call("DELETE", `/v1/routes/${created.json.id}`);
  });

  it("refuses a revoked key on another process at once", async () => {
    const key = await makeKey(["routes:read"], "short-lived");
    assert.equal((await as(b, key.key)("GET", "/v1/routes")).status, 200, "b accepts it");
    assert.equal((await as(a, key.key)("GET", "/v1/routes")).status, 200, "a accepts it");
    const revoked = await a.call("DELETE", `/v1/keys/${key.id}`);
    assert.equal(revoked.status, 204);
    const onB = await as(b, key.key)("GET", "/v1/routes");
    assert.equal(onB.status, 401);
    assert.equal(onB.json.error.code, "HG_ERR_UNAUTHORIZED");
    assert.equal((await as(a, key.key)("GET", "/v1/routes")).status, 401);
    assert.equal((await a.call("DELETE", `/v1/keys/${key.id}`)).status, 404);
    const listed = (await b.call("GET", "/v1/keys")).json.keys.map((k: { id: string }) => k.id);
    assert.ok(!listed.includes(key.id));
  });

  it("refuses unknown keys, expired keys at creation, and keys granting scopes their maker lacks", async () => {
    assert.equal((await as(a, "hgk_notakey")("GET", "/v1/routes")).status, 401);
    const past = await a.call("POST", "/v1/keys", {
      name: "past",
      scopes: ["routes:read"],
      expiresAt: "2020-01-01T00:00:00Z",
    });
    assert.equal(past.status, 400);
    assert.equal(past.json.error.details[0].path, "expiresAt");
    const unknown = await a.call("POST", "/v1/keys", { name: "x", scopes: ["routes:everything"] });
    assert.equal(unknown.status, 400);
    const admin = await makeKey(["keys:admin", "routes:read"]);
    const over = await as(a, admin.key)("POST", "/v1/keys", {
      name: "more",
      scopes: ["routes:read", "routes:write"],
    });
    assert.equal(over.status, 403);
    assert.match(over.json.error.message, /routes:write/);
    const within = await as(a, admin.key)("POST", "/v1/keys", { name: "less", scopes: ["routes:read"] });
    assert.equal(within.status, 201);
  });

  it("declares a scope on every /v1 operation, in the OpenAPI document too", async () => {
    const doc = JSON.parse((await a.app.inject({ url: "/openapi.json" })).body) as {
      paths: Record<string, Record<string, { "x-scope"?: string; security?: unknown; description?: string }>>;
    };
    const v1 = Object.entries(doc.paths).filter(
      ([path]) => path.startsWith("/v1/") && !path.startsWith("/v1/ingest/"),
    );
    assert.ok(v1.length >= 25, `${v1.length} paths`);
    const undeclared: string[] = [];
    for (const [path, ops] of v1) {
      for (const [method, op] of Object.entries(ops)) {
        const scope = op["x-scope"];
        if (!scope || !(SCOPES as readonly string[]).includes(scope)) {
          undeclared.push(`${method} ${path}`);
          continue;
        }
        assert.deepEqual(op.security, [{ bearer: [scope] }], `${method} ${path}`);
        assert.match(op.description ?? "", new RegExp(`Needs scope \`${scope}\``), `${method} ${path}`);
      }
    }
    assert.deepEqual(undeclared, []);
    assert.equal(doc.paths["/metrics"]?.get?.["x-scope"], "metrics:read");
  });

  it("lets /metrics and /admin/queues in with a key that has their scope", async () => {
    const scraper = await makeKey(["metrics:read"]);
    const metrics = await a.app.inject({
      url: "/metrics",
      headers: { authorization: `Bearer ${scraper.key}` },
    });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /hookgate_/);
    const reader = await makeKey(["routes:read"]);
    const denied = await a.app.inject({
      url: "/metrics",
      headers: { authorization: `Bearer ${reader.key}` },
    });
    assert.equal(denied.statusCode, 403);
    assert.match(JSON.parse(denied.body).error.message, /metrics:read/);

    const watcher = await makeKey(["deliveries:read"]);
    const basic = (key: string) => `Basic ${Buffer.from(`me:${key}`).toString("base64")}`;
    const board = await a.app.inject({
      url: "/admin/queues",
      headers: { authorization: basic(watcher.key) },
    });
    assert.equal(board.statusCode, 200);
    const boardDenied = await a.app.inject({
      url: "/admin/queues",
      headers: { authorization: basic(reader.key) },
    });
    assert.equal(boardDenied.statusCode, 403);
  });

  it("opens the playground and the dashboard with a key, whose session hands back that key, not the admin token", async () => {
    const basic = (key: string) => `Basic ${Buffer.from(`me:${key}`).toString("base64")}`;
    const reader = await makeKey(["routes:read"], "page-reader");
    const watcher = await makeKey(["deliveries:read"], "page-watcher");
    const session = (page: string, key: string) =>
      a.app.inject({ url: `/${page}/session`, headers: { authorization: basic(key) } });
    const playground = await session("playground", reader.key);
    assert.equal(playground.statusCode, 200);
    assert.deepEqual(JSON.parse(playground.body), { token: reader.key });
    const dashboard = await session("dashboard", watcher.key);
    assert.deepEqual(JSON.parse(dashboard.body), { token: watcher.key });
    const wrong = await session("playground", watcher.key);
    assert.equal(wrong.statusCode, 403);
    assert.match(JSON.parse(wrong.body).error.message, /routes:read/);
    assert.equal((await session("dashboard", reader.key)).statusCode, 403);
  });

  it("runs the CLI with a scoped key: plan with routes:read, apply refused until it has routes:write", async () => {
    const url = await b.app.listen({ port: 0, host: "127.0.0.1" });
    const cli = (args: string[], key: string) =>
      new Promise<{ code: number | null; out: string; err: string }>((done, fail) => {
        const child = spawn(process.execPath, [BIN, "routes", ...args], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? "", HOOKGATE_URL: url, HOOKGATE_API_KEY: key },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c;
        });
        child.stderr.on("data", (c: Buffer) => {
          err += c;
        });
        child.on("error", fail);
        child.on("close", (code) => done({ code, out, err }));
      });
    const file = "routes/hard-bounces.json";
    const reader = await makeKey(["routes:read"], "cli-reader");
    const plan = await cli(["plan", file], reader.key);
    assert.equal(plan.code, 0, plan.err);
    assert.match(plan.out, /create/);
    const refused = await cli(["apply", file], reader.key);
    assert.equal(refused.code, 1);
    // Each route the API refuses is reported on its line, and the rest go on.
    assert.match(refused.out, /failed .*HG_ERR_FORBIDDEN: this key lacks the scope routes:write/);
    assert.equal((await a.call("GET", "/v1/routes")).json.routes.length, 0);

    const deployer = await makeKey(["routes:read", "routes:write"], "cli-deployer");
    const applied = await cli(["apply", file], deployer.key);
    assert.equal(applied.code, 0, applied.err);
    const routes = (await a.call("GET", "/v1/routes")).json.routes;
    assert.equal(routes.length, 1);
    const audit = await a.call("GET", `/v1/audit?keyId=${deployer.id}`);
    assert.equal(audit.json.entries[0].operation, "POST /v1/routes");
    assert.equal(audit.json.entries[0].keyName, "cli-deployer");
    await a.call("DELETE", `/v1/routes/${routes[0].id}`);
  });
});
