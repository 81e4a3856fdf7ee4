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
  /** `redis://localhost?path=<socket>`: the form our config, ioredis and BullMQ all take. */
  url: string;
  /** The unix socket the server listens on (no TCP port). */
  socket: string;
  dir: string;
  stop(): Promise<void>;
  /** Stops and starts the same server (same socket, same AOF directory). */
  restart(): Promise<void>;
  /** Stops the server process, keeping its data, until `resume`. */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/**
 * A real redis-server of the test's own, AOF on, removed at stop. It listens on a unix socket in
 * its own temporary directory, not on a TCP port: a port found free and then bound by the server
 * could be taken by another test in between, a path of our own cannot.
 */
export async function startRedisServer(options: { appendonly?: boolean } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "hookgate-redis-"));
  const socket = join(dir, "redis.sock");
  let child: ChildProcess | null = null;

  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn(
        "redis-server",
        [
          "--port",
          "0",
          "--unixsocket",
          socket,
          "--unixsocketperm",
          "700",
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
      // "Ready to accept connections" (with a TCP port), "ready to accept connections at <socket>"
      // (Redis 7.0 on a socket alone), "Ready to accept connections unix" (7.2).
      const ready = () => /ready to accept connections/i.test(out);
      const timer = setTimeout(() => {
        // A server that never said it was ready must not outlive the test run.
        proc.kill("SIGKILL");
        reject(new Error(`redis-server did not start:\n${out}`));
      }, 10_000);
      proc.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (ready()) {
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
        if (!ready()) reject(new Error(`redis-server exited ${code}:\n${out}`));
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
    url: `redis://localhost?path=${encodeURIComponent(socket)}`,
    socket,
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
