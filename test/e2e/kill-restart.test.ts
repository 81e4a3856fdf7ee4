import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { request } from "undici";
import { freePort, type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { Sink } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * At-least-once across a crash: the gateway process is killed with SIGKILL while it is walking
 * and delivering, then started again; every event that got a 202 must reach the sink.
 */

const TOKEN = "kill-restart-test-token-0123456789";
let redis: RedisServer;
let sink: Sink;
let dataDir: string;
let port: number;
let child: ChildProcess | null = null;

function startProcess(): ChildProcess {
  const proc = spawn(process.execPath, ["src/main.ts"], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: String(port),
      HOST: "127.0.0.1",
      REDIS_URL: redis.url,
      HOOKGATE_ADMIN_TOKEN: TOKEN,
      HOOKGATE_TARGET_ALLOW: "127.0.0.1/32",
      HOOKGATE_LOCK_MS: "1500",
      HOOKGATE_DATA_DIR: dataDir,
      HOOKGATE_LOG_LEVEL: "error",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  proc.stderr?.resume();
  return proc;
}

async function api(method: "GET" | "POST", path: string, body?: unknown) {
  const res = await request(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.statusCode,
    json: (await res.body.json()) as { events?: { id: string }[]; id?: string },
  };
}

async function waitHealthy(): Promise<void> {
  await waitUntil(
    async () => {
      const res = await request(`http://127.0.0.1:${port}/healthz`);
      await res.body.dump();
      return res.statusCode === 200;
    },
    20_000,
    "gateway to listen",
  );
}

async function postEvents(from: number, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + count; i += 100) {
    const batch = Array.from({ length: Math.min(100, from + count - i) }, (_, k) => ({
      id: `kr-${i + k}`,
      type: "messageNew",
      data: { n: i + k },
    }));
    const res = await api("POST", "/v1/events", batch);
    assert.equal(res.status, 202);
    ids.push(...(res.json.events ?? []).map((e) => e.id));
  }
  return ids;
}

before(async () => {
  redis = await startRedisServer({ appendonly: true });
  sink = await new Sink().listen();
  sink.respond = () => ({ status: 200, delayMs: 2 });
  dataDir = mkdtempSync(join(tmpdir(), "hookgate-kr-"));
  port = await freePort();
});

after(async () => {
  child?.kill("SIGKILL");
  await sink?.close();
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it("delivers every accepted event at least once when the gateway is killed and restarted", async (t) => {
  child = startProcess();
  await waitHealthy();
  const route = await api("POST", "/v1/routes", {
    name: "all",
    target: { url: sink.url() },
    map: "export default (e) => ({ id: e.id, n: e.data.n })",
    retry: { scheduleMs: [100, 200, 400, 800] },
  });
  assert.equal(route.status, 201);

  const accepted = await postEvents(0, 1500);
  await sink.waitFor(150, 30_000);
  child.kill("SIGKILL");
  await new Promise((r) => child?.once("exit", r));
  const atKill = sink.requests.length;

  child = startProcess();
  await waitHealthy();
  accepted.push(...(await postEvents(1500, 500)));
  assert.equal(accepted.length, 2000);

  const seen = new Map<string, number>();
  await waitUntil(
    () => {
      for (const r of sink.requests.splice(0)) {
        const id = (JSON.parse(r.body) as { id: string }).id;
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
      return accepted.every((id) => seen.has(id));
    },
    90_000,
    "every accepted event at the sink",
  );
  const lost = accepted.filter((id) => !seen.has(id)).length;
  const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
  t.diagnostic(`accepted 2000, delivered before kill ${atKill}, lost ${lost}, duplicates ${duplicates}`);
  assert.equal(lost, 0);
  assert.ok(
    atKill < 1500,
    `the kill happened while deliveries were still going on (${atKill} of 1500 had arrived)`,
  );
});
