import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { request } from "undici";
import { freePort } from "../test/helpers/redis-server.ts";

/*
 * What the benchmarks share: a counting sink on loopback, percentiles, CPU time of processes,
 * and a description of the machine for bench/RESULTS.md.
 */

/**
 * A receiver that answers 200 at once and hands each body to `onBody` (for latency stamps, or its
 * headers too for checking signatures).
 */
export class CountingSink {
  received = 0;
  onBody: ((body: string, at: number, headers: IncomingHttpHeaders) => void) | null = null;
  #server: Server;
  #waiters: { count: number; resolve: () => void }[] = [];

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const at = performance.timeOrigin + performance.now();
        this.received++;
        res.writeHead(200).end("ok");
        if (this.onBody) this.onBody(Buffer.concat(chunks).toString("utf8"), at, req.headers);
        this.#waiters = this.#waiters.filter((w) => {
          if (this.received < w.count) return true;
          w.resolve();
          return false;
        });
      });
    });
    this.#server.keepAliveTimeout = 30_000;
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", r));
    return this;
  }

  url(path = "/hook"): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${path}`;
  }

  /** Resolves once `count` requests have arrived in total. */
  until(count: number): Promise<void> {
    if (this.received >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }
}

/** Wall clock in ms with sub-ms precision, comparable across this process's timers. */
export const nowMs = () => performance.timeOrigin + performance.now();

/** The p-th percentile (0–100) of ascending `sorted` values (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** User + system CPU seconds a process has used so far (Linux /proc). */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** The process and all its descendants (the sandbox child of a gateway, say), from /proc. */
export function processTree(pid: number): number[] {
  const out = [pid];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      for (const child of children ? children.split(" ") : []) out.push(...processTree(Number(child)));
    }
  } catch {}
  return out;
}

/** CPU seconds of a process and its descendants. */
export function treeCpuSeconds(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + (cpuSecondsOf(p) || 0), 0);
}

/**
 * CPU seconds the whole machine has been busy (every process, all cores), from /proc/stat: the
 * difference over a run, minus what the benchmark's own processes used, is what others took.
 */
export function machineBusySeconds(): number {
  const [, ...ticks] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
    .trim()
    .split(/\s+/)
    .map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait.
  const busy = [0, 1, 2, 5, 6, 7].reduce((sum, i) => sum + (ticks[i] ?? 0), 0);
  return busy / 100;
}

/** Resident memory of a process in MB (Linux /proc). */
export function rssMbOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds Redis has used so far, from INFO. */
export async function redisCpuSeconds(url: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  const info = await redis.info("cpu");
  redis.disconnect();
  const read = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return read("used_cpu_sys") + read("used_cpu_user");
}

/**
 * One line for RESULTS.md: CPU model and count, memory, Node and Redis versions, and the load
 * average when the run started (well above 0 means others share the machine: noisy figures).
 */
export async function machine(redisUrl?: string): Promise<string> {
  const list = cpus();
  let redis = "";
  if (redisUrl) {
    const r = new Redis(redisUrl, { lazyConnect: true });
    await r.connect();
    redis = `, Redis ${/redis_version:(\S+)/.exec(await r.info("server"))?.[1] ?? "?"}`;
    r.disconnect();
  }
  const load = loadavg()[0] ?? 0;
  return `${list.length} × ${list[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(1)} GB, Node ${process.version}${redis}, load average ${load.toFixed(2)} at start`;
}

/** POSTs JSON with the admin token; throws unless the status is `expect`. */
export async function postJson(url: string, token: string, body: unknown, expect = 201): Promise<unknown> {
  const res = await request(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode !== expect) throw new Error(`${url}: ${res.statusCode} ${text}`);
  return text ? JSON.parse(text) : null;
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "n/a";

export interface BenchRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * A fresh redis-server on a loopback TCP port (AOF everysec, noeviction), as a deployment runs
 * it: the benchmarks measure Redis over TCP whatever transport the tests' helper picks.
 */
export async function startBenchRedis(
  options: {
    appendonly?: boolean /** The url of a BenchRedis this one replicates. */;
    replicaOf?: string;
  } = {},
): Promise<BenchRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "hookgate-bench-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
  args.push("--appendonly", options.appendonly === false ? "no" : "yes", "--appendfsync", "everysec");
  args.push("--maxmemory-policy", "noeviction");
  if (options.replicaOf) args.push("--replicaof", "127.0.0.1", new URL(options.replicaOf).port);
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      if (/ready to accept connections/i.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited ${code}:\n${out}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    async stop() {
      child.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
