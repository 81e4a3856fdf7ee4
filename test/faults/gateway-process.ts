import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { freePort } from "../helpers/redis-server.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * The gateway as its own process (src/main.ts), the way it runs in production, for the fault
 * suite and the benchmarks: it can be killed with SIGKILL, restarted on the same port, and
 * several can run against one Redis with different roles.
 */

const ROOT = new URL("../../", import.meta.url);

export interface GatewayProcessOptions {
  /** REDIS_URL; none when `env` says where Redis is (HOOKGATE_REDIS_CLUSTER_NODES, …). */
  redisUrl?: string;
  token: string;
  /** Extra environment, e.g. HOOKGATE_ROLE. */
  env?: Record<string, string>;
  /** Listen here (the API role); a free port when absent. */
  port?: number;
}

export class GatewayProcess {
  readonly port: number;
  readonly #options: GatewayProcessOptions;
  readonly #dataDir = mkdtempSync(join(tmpdir(), "hookgate-proc-"));
  #child: ChildProcess | null = null;
  #stderr = "";
  #exit: Promise<number | null> = Promise.resolve(null);

  private constructor(options: GatewayProcessOptions, port: number) {
    this.#options = options;
    this.port = port;
  }

  static async start(options: GatewayProcessOptions): Promise<GatewayProcess> {
    const p = new GatewayProcess(options, options.port ?? (await freePort()));
    await p.restart();
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** What the process wrote to stderr (errors only, at the log level used here). */
  get stderr(): string {
    return this.#stderr;
  }

  /** Starts the process (again, on the same port) and waits until it serves or its workers run. */
  async restart(): Promise<void> {
    const role = this.#options.env?.HOOKGATE_ROLE ?? "all";
    const child = spawn(process.execPath, ["src/main.ts"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        PORT: String(this.port),
        HOST: "127.0.0.1",
        ...(this.#options.redisUrl ? { REDIS_URL: this.#options.redisUrl } : {}),
        HOOKGATE_ADMIN_TOKEN: this.#options.token,
        HOOKGATE_TARGET_ALLOW: "127.0.0.1/32",
        HOOKGATE_DATA_DIR: this.#dataDir,
        HOOKGATE_LOG_LEVEL: "error",
        ...this.#options.env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.#child = child;
    child.stderr?.on("data", (c: Buffer) => {
      this.#stderr += c.toString();
    });
    this.#exit = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    if (role === "worker") {
      await waitUntil(() => this.#stderr.includes("workers running"), 30_000, "the worker process to start");
      return;
    }
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`gateway exited ${child.exitCode}: ${this.#stderr}`);
        const res = await request(`${this.url}/healthz`);
        await res.body.dump();
        return res.statusCode === 200;
      },
      30_000,
      "the gateway to listen",
    );
  }

  /** SIGKILL: no shutdown code runs, whatever was in flight is cut off. */
  async kill(): Promise<void> {
    this.#child?.kill("SIGKILL");
    await this.#exit;
  }

  /** SIGTERM and wait for the graceful exit (its code). */
  async stop(): Promise<number | null> {
    if (!this.#child || this.#child.exitCode !== null) return this.#child?.exitCode ?? null;
    this.#child.kill("SIGTERM");
    return await this.#exit;
  }

  /** Whether the process is still running (it did not crash). */
  get alive(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async dispose(): Promise<void> {
    if (this.alive) await this.kill();
    rmSync(this.#dataDir, { recursive: true, force: true });
  }
}

export interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience for reading JSON answers
  json: any;
}

/** Calls the admin API of a gateway process over HTTP. */
export function apiClient(baseUrl: string, token: string, dispatcher = new Agent({ connections: 16 })) {
  return async function call(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const res = await request(`${baseUrl}${path}`, {
      method: method as "GET",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      dispatcher,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.statusCode, json };
  };
}
