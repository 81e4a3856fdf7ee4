import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { request } from "undici";
import { freePort, type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { Sink } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";

/** The gateway as a process: configuration errors, the generated token, roles, SIGTERM. */

let redis: RedisServer;
let sink: Sink;
let dataDir: string;
const children: ChildProcess[] = [];

before(async () => {
  redis = await startRedisServer({ appendonly: false });
  sink = await new Sink().listen();
  dataDir = mkdtempSync(join(tmpdir(), "hookgate-proc-"));
});

after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await sink?.close();
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function run(env: Record<string, string>): {
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const proc = spawn(process.execPath, ["src/main.ts"], {
    env: { PATH: process.env.PATH ?? "", HOOKGATE_LOG_LEVEL: "error", HOOKGATE_DATA_DIR: dataDir, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(proc);
  let err = "";
  proc.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { proc, stderr: () => err, exited };
}

async function get(port: number, path: string, token?: string) {
  const res = await request(`http://127.0.0.1:${port}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

describe("the gateway process", () => {
  it("exits 1 naming each invalid variable", async () => {
    const p = run({ PORT: "http", HOOKGATE_ROLE: "everything", REDIS_URL: redis.url });
    assert.equal(await p.exited, 1);
    assert.match(p.stderr(), /PORT/);
    assert.match(p.stderr(), /HOOKGATE_ROLE/);
  });

  it("generates an admin token on first start, keeps it private in the data directory, and says where", async () => {
    const port = await freePort();
    const p = run({ PORT: String(port), REDIS_URL: redis.url, HOOKGATE_KEY_PREFIX: "tok" });
    await waitUntil(() => p.stderr().includes("admin token is in"), 20_000, "startup");
    const file = join(dataDir, "admin-token");
    assert.match(p.stderr(), new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    assert.equal(statSync(file).mode & 0o077, 0, "only the owner may read it");
    const token = readFileSync(file, "utf8").trim();
    assert.equal((await get(port, "/v1/routes", token)).status, 200);
    assert.equal((await get(port, "/v1/routes", "wrong-token-wrong-token")).status, 401);
    p.proc.kill("SIGTERM");
    assert.equal(await p.exited, 0, "SIGTERM is a clean exit");
  });

  it("runs the API and the workers as separate processes on one Redis", async () => {
    const port = await freePort();
    const token = "roles-test-token-0123456789";
    const common = {
      REDIS_URL: redis.url,
      HOOKGATE_ADMIN_TOKEN: token,
      HOOKGATE_KEY_PREFIX: "roles",
      HOOKGATE_TARGET_ALLOW: "127.0.0.1/32",
    };
    const api = run({ ...common, HOOKGATE_ROLE: "api", PORT: String(port) });
    await waitUntil(async () => (await get(port, "/healthz")).status === 200, 20_000, "api");
    const ready = await get(port, "/readyz");
    assert.deepEqual(
      ready.json.checks,
      { redis: true, redisMemory: true },
      "an API-only process runs no workers",
    );
    const metricsPort = await freePort();
    const worker = run({ ...common, HOOKGATE_ROLE: "worker", HOOKGATE_METRICS_PORT: String(metricsPort) });
    await waitUntil(() => worker.stderr().includes("workers running"), 20_000, "worker");
    const workerReady = await get(metricsPort, "/readyz");
    assert.equal(workerReady.status, 200, "a worker serves its own health");
    assert.deepEqual(workerReady.json.checks, {
      redis: true,
      redisMemory: true,
      walker: true,
      deliveryWorker: true,
    });
    assert.equal((await get(metricsPort, "/v1/routes", token)).status, 404, "and no API");

    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const created = await request(`http://127.0.0.1:${port}/v1/routes`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: "r", target: { url: sink.url() } }),
    });
    assert.equal(created.statusCode, 201);
    await created.body.dump();
    const sent = await request(`http://127.0.0.1:${port}/v1/events`, {
      method: "POST",
      headers,
      body: JSON.stringify({ id: "roles-1", type: "messageNew", data: {} }),
    });
    assert.equal(sent.statusCode, 202);
    await sent.body.dump();
    const [req] = await sink.waitFor(1, 20_000);
    assert.equal(JSON.parse(req?.body ?? "").id, "roles-1");
    const scraped = await request(`http://127.0.0.1:${metricsPort}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(scraped.statusCode, 200);
    assert.match(await scraped.body.text(), /hookgate_/, "the worker's own counters can be scraped");
    api.proc.kill("SIGTERM");
    worker.proc.kill("SIGTERM");
    assert.deepEqual(await Promise.all([api.exited, worker.exited]), [0, 0]);
  });

  it("on SIGTERM finishes the deliveries in flight, hands back the rest, and loses nothing", async () => {
    const port = await freePort();
    const token = "sigterm-test-token-0123456789";
    const env = {
      REDIS_URL: redis.url,
      HOOKGATE_ADMIN_TOKEN: token,
      HOOKGATE_KEY_PREFIX: "sigterm",
      HOOKGATE_TARGET_ALLOW: "127.0.0.1/32",
      PORT: String(port),
    };
    sink.requests.length = 0;
    // Slow answers, so SIGTERM lands while attempts are in flight.
    sink.respond = () => ({ status: 200, delayMs: 1500 });
    const first = run(env);
    await waitUntil(async () => (await get(port, "/healthz")).status === 200, 20_000, "gateway");
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const created = await request(`http://127.0.0.1:${port}/v1/routes`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: "slow", target: { url: sink.url("/slow"), maxConcurrency: 4 } }),
    });
    assert.equal(created.statusCode, 201);
    await created.body.dump();
    for (let i = 0; i < 12; i++) {
      const sent = await request(`http://127.0.0.1:${port}/v1/events`, {
        method: "POST",
        headers,
        body: JSON.stringify({ id: `term-${i}`, type: "messageNew", data: {} }),
      });
      assert.equal(sent.statusCode, 202);
      await sent.body.dump();
    }
    await sink.waitFor(1, 20_000);
    first.proc.kill("SIGTERM");
    assert.equal(await first.exited, 0, "a clean exit after the attempts in flight");
    const beforeRestart = sink.requests.length;
    assert.ok(beforeRestart < 12, "SIGTERM came before everything was sent");
    sink.respond = () => ({ status: 200 });
    const second = run(env);
    const got = await waitUntil(
      () => {
        const ids = new Set(sink.requests.map((r) => (JSON.parse(r.body) as { id: string }).id));
        return ids.size === 12 ? ids : undefined;
      },
      30_000,
      "all 12 events after the restart",
    );
    assert.equal(got.size, 12, "nothing lost");
    // The attempts in flight at SIGTERM were finished and recorded, so none is sent twice.
    assert.equal(sink.requests.length, 12, "no duplicates");
    second.proc.kill("SIGTERM");
    assert.equal(await second.exited, 0);
  });
});
