import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./redis-server.ts";
import { waitUntil } from "./wait.ts";

/*
 * Real Redis Cluster and Sentinel deployments on loopback for the failover tests: every server
 * on 127.0.0.1 only, on ports found free, its files in a temporary directory removed at stop.
 * Cluster and Sentinel need TCP (their servers find each other by address), so unlike the
 * unix-socket Redis of the other tests a port found free may be taken before the server binds
 * it: a server that does not come up as itself is started again on other ports.
 */

const run = promisify(execFile);

/** How long a server may be unreachable before the others fail it over (cluster-node-timeout, down-after-milliseconds). */
export const FAILOVER_AFTER_MS = 2000;

/** Servers still running when the test process exits (a failed `before`, a crash) go with it. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export interface RedisNode {
  port: number;
  readonly alive: boolean;
  /** SIGKILL: no AOF flush, no goodbye to the other servers. */
  kill(): Promise<void>;
  /** SIGTERM: Redis's own shutdown, which also ends its background save. */
  stop(): Promise<void>;
  /** Starts the stopped server again: same port, same files (a Cluster node rejoins as a replica). */
  restart(): Promise<void>;
  /** The end of the server's log, for a failure message. */
  log(): string;
}

/** `redis-cli -p <port> <args…>`'s output, trimmed. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], {
    timeout: 10_000,
  });
  return stdout.trim();
}

/**
 * Starts `redis-server argv…` on a free port, with `extraPorts` more free ports for its own use,
 * and waits until that port answers as this process (not another that took the port first).
 */
async function startNode(
  dir: string,
  argv: (port: number, extra: number[], nodeDir: string) => string[],
  extraPorts = 0,
): Promise<RedisNode> {
  let lastLog = "";
  for (let tries = 0; tries < 5; tries++) {
    const port = await freePort();
    const extra = await Promise.all(Array.from({ length: extraPorts }, freePort));
    if (new Set([port, ...extra]).size !== extra.length + 1) continue;
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir, { recursive: true });
    const args = argv(port, extra, nodeDir);
    const first = await launch(port, args, nodeDir);
    if (first)
      return nodeOf(
        port,
        first,
        () => launch(port, args, nodeDir),
        () => readLog(nodeDir),
      );
    lastLog = readLog(nodeDir);
  }
  throw new Error(`redis-server did not start:\n${lastLog}`);
}

interface Launched {
  child: ChildProcess;
  exited: Promise<void>;
}

/** One redis-server process, once it answers on `port` as itself; null if it did not. */
async function launch(port: number, args: string[], nodeDir: string): Promise<Launched | null> {
  const child = spawn("redis-server", args, { cwd: nodeDir, stdio: "ignore" });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => running.delete(child));
  const ready = await waitUntil(
    async () => {
      if (child.exitCode !== null) return "exited";
      const info = await redisCli(port, "INFO", "server").catch(() => "");
      return new RegExp(`^process_id:${child.pid}\\s*$`, "m").test(info) && "ready";
    },
    15_000,
    `redis-server on ${port}`,
  ).catch(() => "timeout");
  if (ready === "ready") return { child, exited };
  child.kill("SIGKILL");
  await exited;
  return null;
}

function readLog(nodeDir: string): string {
  try {
    return readFileSync(join(nodeDir, "redis.log"), "utf8").split("\n").slice(-30).join("\n");
  } catch {
    return "";
  }
}

function nodeOf(
  port: number,
  first: Launched,
  relaunch: () => Promise<Launched | null>,
  log: () => string,
): RedisNode {
  let current = first;
  const isRunning = () => current.child.exitCode === null && current.child.signalCode === null;
  return {
    port,
    get alive() {
      return isRunning();
    },
    async kill() {
      if (isRunning()) current.child.kill("SIGKILL");
      await current.exited;
    },
    async stop() {
      if (isRunning()) current.child.kill("SIGTERM");
      await current.exited;
    },
    async restart() {
      if (isRunning()) throw new Error(`redis-server on ${port} is running`);
      const again = await relaunch();
      if (!again) throw new Error(`redis-server on ${port} did not start again:\n${log()}`);
      current = again;
    },
    log,
  };
}

const SERVER_ARGS = [
  "--bind",
  "127.0.0.1",
  "--save",
  "",
  "--appendonly",
  "yes",
  "--appendfsync",
  "everysec",
  "--maxmemory-policy",
  "noeviction",
  "--dir",
  ".",
  "--logfile",
  "redis.log",
];

async function stopAll(nodes: RedisNode[], dir: string): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}

/** Whether a server's replication is settled: a replica has finished its first sync. */
async function replicationUp(port: number): Promise<boolean> {
  const replication = await redisCli(port, "INFO", "replication");
  // A replica that has not finished its first sync cannot take over (it has no data).
  return /role:master/.test(replication)
    ? /connected_slaves:1\s/.test(replication)
    : /master_link_status:up/.test(replication);
}

export interface RedisCluster {
  nodes: RedisNode[];
  /** `host:port` of every node, for HOOKGATE_REDIS_CLUSTER_NODES. */
  seeds: string;
  /** The node that serves `slot` now, as the live nodes say (CLUSTER NODES), or null while none does. */
  primaryOf(slot: number): Promise<RedisNode | null>;
  stop(): Promise<void>;
}

/**
 * Six nodes, AOF on, `redis-cli --cluster create … --cluster-replicas 1`: three primaries with a
 * replica each. Answers once every node sees the cluster ok and every replica has synced.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), "hookgate-cluster-"));
  const nodes: RedisNode[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const node = await startNode(
        dir,
        (port, [bus]) => [
          "--port",
          String(port),
          ...SERVER_ARGS,
          "--cluster-enabled",
          "yes",
          // The bus port is port + 10000 unless given; that may be taken, or above 65535.
          "--cluster-port",
          String(bus),
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-node-timeout",
          String(FAILOVER_AFTER_MS),
        ],
        1,
      );
      nodes.push(node);
    }
    const seeds = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run("redis-cli", ["--cluster", "create", ...seeds, "--cluster-replicas", "1", "--cluster-yes"], {
      timeout: 60_000,
    });
    await waitUntil(
      async () => {
        for (const n of nodes) {
          const info = await redisCli(n.port, "CLUSTER", "INFO");
          if (!/cluster_state:ok/.test(info) || !/cluster_known_nodes:6\s/.test(info)) return false;
          if (!/cluster_slots_ok:16384\s/.test(info) || !(await replicationUp(n.port))) return false;
        }
        return true;
      },
      60_000,
      "every node to see the cluster ok, and every replica synced",
    );
  } catch (err) {
    await stopAll(nodes, dir);
    throw err;
  }
  return {
    nodes,
    seeds: nodes.map((n) => `127.0.0.1:${n.port}`).join(","),
    async primaryOf(slot) {
      for (const asked of nodes.filter((n) => n.alive)) {
        const text = await redisCli(asked.port, "CLUSTER", "NODES").catch(() => "");
        for (const line of text.split("\n")) {
          const [, address, flags, , , , , state, ...ranges] = line.split(" ");
          if (!flags?.includes("master") || flags.includes("fail") || state !== "connected") continue;
          const port = Number(address?.split("@")[0]?.split(":")[1]);
          const owns = ranges.some((r) => {
            const [from, to] = r.split("-").map(Number);
            return from !== undefined && slot >= from && slot <= (to ?? from);
          });
          const node = nodes.find((n) => n.port === port && n.alive);
          if (owns && node) return node;
        }
      }
      return null;
    },
    stop: () => stopAll(nodes, dir),
  };
}

export interface RedisSentinels {
  /** The first primary and its replica. */
  servers: RedisNode[];
  sentinels: RedisNode[];
  /** The primary's name in the Sentinels' configuration. */
  name: string;
  /** `host:port` of every Sentinel, for HOOKGATE_REDIS_SENTINELS. */
  addresses: string;
  /** The server the Sentinels name as primary now (a majority of them agreeing), or null. */
  primary(): Promise<RedisNode | null>;
  stop(): Promise<void>;
}

/**
 * A primary, its replica and three Sentinels (quorum 2), AOF on. Answers once the replica has
 * synced and every Sentinel knows the replica and the two other Sentinels.
 */
export async function startRedisSentinels(name = "hookgate"): Promise<RedisSentinels> {
  const dir = mkdtempSync(join(tmpdir(), "hookgate-sentinel-"));
  const servers: RedisNode[] = [];
  const sentinels: RedisNode[] = [];
  try {
    const [primary] = await startPrimaryAndReplica(dir, servers);
    for (let i = 0; i < 3; i++) {
      sentinels.push(
        await startNode(dir, (port, _extra, nodeDir) => {
          // Sentinel rewrites its configuration file with what it learns: it must be its own.
          const conf = join(nodeDir, "sentinel.conf");
          writeFileSync(
            conf,
            [
              `port ${port}`,
              "bind 127.0.0.1",
              `dir ${nodeDir}`,
              "logfile redis.log",
              `sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`,
              `sentinel down-after-milliseconds ${name} ${FAILOVER_AFTER_MS}`,
              `sentinel failover-timeout ${name} 10000`,
              "",
            ].join("\n"),
          );
          return [conf, "--sentinel"];
        }),
      );
    }
    await waitUntil(
      async () => {
        for (const s of servers) if (!(await replicationUp(s.port))) return false;
        for (const s of sentinels) {
          const master = (await redisCli(s.port, "SENTINEL", "MASTER", name)).split("\n");
          const field = (key: string) => master[master.indexOf(key) + 1];
          if (field("num-slaves") !== "1" || field("num-other-sentinels") !== "2") return false;
        }
        return true;
      },
      60_000,
      "the replica synced, and every Sentinel to know it and the others",
    );
  } catch (err) {
    await stopAll([...sentinels, ...servers], dir);
    throw err;
  }
  return {
    servers,
    sentinels,
    name,
    addresses: sentinels.map((s) => `127.0.0.1:${s.port}`).join(","),
    async primary() {
      const named = new Map<number, number>();
      for (const s of sentinels.filter((x) => x.alive)) {
        const answer = await redisCli(s.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name).catch(() => "");
        const port = Number(answer.split("\n")[1]);
        named.set(port, (named.get(port) ?? 0) + 1);
      }
      const [port] = [...named].find(([, votes]) => votes >= 2) ?? [];
      const server = servers.find((s) => s.port === port && s.alive);
      if (!server) return null;
      // Promoted, not only named: it answers as a primary.
      return /role:master/.test(await redisCli(server.port, "INFO", "replication").catch(() => ""))
        ? server
        : null;
    },
    stop: () => stopAll([...sentinels, ...servers], dir),
  };
}

export interface RedisPair {
  primary: RedisNode;
  replica: RedisNode;
  /** REDIS_URL of the primary. */
  url: string;
  stop(): Promise<void>;
}

/** A primary and its replica (not waited for to sync), each added to `started` as it starts. */
async function startPrimaryAndReplica(dir: string, started: RedisNode[]): Promise<[RedisNode, RedisNode]> {
  const primary = await startNode(dir, (port) => ["--port", String(port), ...SERVER_ARGS]);
  started.push(primary);
  const replica = await startNode(dir, (port) => [
    "--port",
    String(port),
    ...SERVER_ARGS,
    "--replicaof",
    "127.0.0.1",
    String(primary.port),
  ]);
  started.push(replica);
  return [primary, replica];
}

/** A primary and its replica on loopback, AOF on, once the replica has synced. */
export async function startRedisPair(): Promise<RedisPair> {
  const dir = mkdtempSync(join(tmpdir(), "hookgate-pair-"));
  const nodes: RedisNode[] = [];
  try {
    const [primary, replica] = await startPrimaryAndReplica(dir, nodes);
    await waitUntil(() => replicationUp(replica.port), 30_000, "the replica to sync");
    return { primary, replica, url: `redis://127.0.0.1:${primary.port}`, stop: () => stopAll(nodes, dir) };
  } catch (err) {
    await stopAll(nodes, dir);
    throw err;
  }
}
