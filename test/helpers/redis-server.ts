import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
  /** Stops and starts the same server (same port, same AOF directory). */
  restart(): Promise<void>;
  /** Stops the server process, keeping its data, until `resume`. */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/** A real redis-server of the test's own on a free loopback port, AOF on, removed at stop. */
export async function startRedisServer(options: { appendonly?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "hookgate-redis-"));
  let child: ChildProcess | null = null;

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--dir",
          dir,
          "--save",
          "",
          "--appendonly",
          options.appendonly === false ? "no" : "yes",
          "--appendfsync",
          "everysec",
          "--maxmemory-policy",
          "noeviction",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      child = proc;
      let out = "";
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
      proc.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      proc.on("exit", (code) => {
        clearTimeout(timer);
        if (!out.includes("Ready to accept")) reject(new Error(`redis-server exited ${code}:\n${out}`));
      });
    });

  const halt = () =>
    new Promise<void>((resolve) => {
      const proc = child as ChildProcess | null;
      if (!proc || proc.exitCode !== null) return resolve();
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
    });

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await halt();
      await launch();
    },
    pause: halt,
    resume: launch,
  };
}
