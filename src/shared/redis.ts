import { Cluster, type ClusterOptions, Redis as NodeClient, type RedisOptions } from "ioredis";

/**
 * A client of the gateway's Redis: one node (REDIS_URL, or the primary Sentinel names) or a
 * Cluster. Every key of one gateway is in one Cluster slot (the key prefix's hash tag), so
 * scripts, transactions and pipelines work the same on both.
 */
export type Redis = NodeClient | Cluster;

export interface HostPort {
  host: string;
  port: number;
}

/** Where Redis is, as configured: exactly one of the three forms. */
export type RedisEndpoint =
  | { kind: "node"; url: string }
  | { kind: "cluster"; nodes: HostPort[]; auth: RedisAuth }
  | { kind: "sentinel"; sentinels: HostPort[]; name: string; sentinelPassword?: string; auth: RedisAuth };

/** Credentials and TLS of Cluster nodes and of the primary Sentinel names. */
export interface RedisAuth {
  username?: string;
  password?: string;
  tls: boolean;
}

/** The settings redisEndpointOf reads (the config's names). */
export interface RedisSettings {
  REDIS_URL?: string | undefined;
  HOOKGATE_REDIS_CLUSTER_NODES?: HostPort[] | undefined;
  HOOKGATE_REDIS_SENTINELS?: HostPort[] | undefined;
  HOOKGATE_REDIS_SENTINEL_NAME?: string | undefined;
  HOOKGATE_REDIS_SENTINEL_PASSWORD?: string | undefined;
  HOOKGATE_REDIS_USERNAME?: string | undefined;
  HOOKGATE_REDIS_PASSWORD?: string | undefined;
  HOOKGATE_REDIS_TLS?: boolean | undefined;
}

/** The configured Redis, or null when none is (the config schema allows only one form). */
export function redisEndpointOf(s: RedisSettings): RedisEndpoint | null {
  const auth: RedisAuth = {
    ...(s.HOOKGATE_REDIS_USERNAME ? { username: s.HOOKGATE_REDIS_USERNAME } : {}),
    ...(s.HOOKGATE_REDIS_PASSWORD ? { password: s.HOOKGATE_REDIS_PASSWORD } : {}),
    tls: s.HOOKGATE_REDIS_TLS ?? false,
  };
  if (s.HOOKGATE_REDIS_CLUSTER_NODES) return { kind: "cluster", nodes: s.HOOKGATE_REDIS_CLUSTER_NODES, auth };
  if (s.HOOKGATE_REDIS_SENTINELS)
    return {
      kind: "sentinel",
      sentinels: s.HOOKGATE_REDIS_SENTINELS,
      name: s.HOOKGATE_REDIS_SENTINEL_NAME ?? "mymaster",
      ...(s.HOOKGATE_REDIS_SENTINEL_PASSWORD ? { sentinelPassword: s.HOOKGATE_REDIS_SENTINEL_PASSWORD } : {}),
      auth,
    };
  return s.REDIS_URL ? { kind: "node", url: s.REDIS_URL } : null;
}

const endpointOf = (target: string | RedisEndpoint): RedisEndpoint =>
  typeof target === "string" ? { kind: "node", url: target } : target;

function authOptions(auth: RedisAuth): Pick<RedisOptions, "username" | "password" | "tls"> {
  return {
    ...(auth.username ? { username: auth.username } : {}),
    ...(auth.password ? { password: auth.password } : {}),
    ...(auth.tls ? { tls: {} } : {}),
  };
}

/** Options of a node client: RedisOptions in the reply shapes Hookgate reads (ioredis' default). */
type NodeOptions = Omit<RedisOptions, "replyMapping">;

function sentinelOptions(
  endpoint: Extract<RedisEndpoint, { kind: "sentinel" }>,
  options: NodeOptions,
): NodeOptions {
  return {
    sentinels: endpoint.sentinels,
    name: endpoint.name,
    ...(endpoint.sentinelPassword ? { sentinelPassword: endpoint.sentinelPassword } : {}),
    ...authOptions(endpoint.auth),
    // A primary demoted by a failover answers writes with READONLY: ask the Sentinels again.
    reconnectOnError: (err) => err.message.startsWith("READONLY"),
    ...options,
  };
}

/** Cluster options whose nodes answer in the reply shapes the rest of Hookgate reads (ioredis'
 * "legacy" mapping, its default). */
type ClusterConfig = ClusterOptions & {
  redisOptions?: ClusterOptions["redisOptions"] & { replyMapping?: "legacy" };
};

/**
 * A Cluster keeps an offline queue of its own, apart from its nodes': both follow
 * `enableOfflineQueue`. Slots are asked of the nodes again whenever one answers MOVED or goes
 * away, which is how a failover is followed.
 */

function clusterOptions(
  endpoint: Extract<RedisEndpoint, { kind: "cluster" }>,
  options: RedisOptions,
): ClusterConfig {
  const { replyMapping: _default, ...nodeOptions } = options;
  return {
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    ...(options.lazyConnect ? { lazyConnect: true } : {}),
    redisOptions: { ...authOptions(endpoint.auth), ...nodeOptions },
    // TLS certificates name the host, not the address a node announces (ioredis's advice for TLS clusters).
    ...(endpoint.auth.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
}

function connect(target: string | RedisEndpoint, options: RedisOptions): Redis {
  const endpoint = endpointOf(target);
  if (endpoint.kind === "node") return new NodeClient(endpoint.url, options);
  if (endpoint.kind === "sentinel") return new NodeClient(sentinelOptions(endpoint, options));
  return new Cluster(endpoint.nodes, clusterOptions(endpoint, options));
}

/**
 * Commands fail at once while Redis is away (no offline queue), so the API answers 503 instead of
 * accepting work it cannot store. BullMQ gets its own connections (it needs maxRetriesPerRequest null).
 */
export function createRedis(target: string | RedisEndpoint, options: RedisOptions = {}): Redis {
  return connect(target, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    lazyConnect: false,
    ...options,
  });
}

/** For blocking reads (XREADGROUP BLOCK): a connection of their own that waits out an outage. */
export function createBlockingRedis(target: string | RedisEndpoint): Redis {
  return connect(target, { maxRetriesPerRequest: null, enableOfflineQueue: true });
}

/** What BullMQ's Queue takes: options to make its own client (which it then closes), or a Cluster. */
export function queueConnection(target: string | RedisEndpoint): RedisOptions | Cluster {
  const endpoint = endpointOf(target);
  const options: RedisOptions = { maxRetriesPerRequest: null };
  if (endpoint.kind === "node") return { url: endpoint.url, ...options } as RedisOptions;
  if (endpoint.kind === "sentinel") return sentinelOptions(endpoint, options);
  return new Cluster(endpoint.nodes, clusterOptions(endpoint, options));
}

/**
 * A connection for a BullMQ Worker that keeps the clients BullMQ makes from it (`duplicate()`,
 * for its blocking reads), so that whoever made it can see whether they are connected and end
 * them: BullMQ leaves a connection it was given open.
 */
export interface TrackedConnection {
  client: Redis;
  /** The client and every duplicate made from it. */
  clients(): Redis[];
}

export function createTrackedConnection(target: string | RedisEndpoint): TrackedConnection {
  const endpoint = endpointOf(target);
  const made: Redis[] = [];
  // BullMQ's blocking reads need maxRetriesPerRequest null.
  const options: RedisOptions = { maxRetriesPerRequest: null };
  let client: Redis;
  if (endpoint.kind === "cluster") {
    class TrackedCluster extends Cluster {
      override duplicate(...args: Parameters<Cluster["duplicate"]>): ReturnType<Cluster["duplicate"]> {
        const copy = super.duplicate(...args);
        made.push(copy);
        return copy;
      }
    }
    client = new TrackedCluster(endpoint.nodes, clusterOptions(endpoint, options));
  } else {
    class TrackedNode extends NodeClient {
      override duplicate(overrides?: Partial<RedisOptions>): NodeClient {
        const copy = super.duplicate(overrides);
        made.push(copy);
        return copy;
      }
    }
    const { replyMapping: _default, ...nodeOptions } = options;
    client =
      endpoint.kind === "node"
        ? new TrackedNode(endpoint.url, nodeOptions)
        : new TrackedNode(sentinelOptions(endpoint, nodeOptions));
  }
  return { client, clients: () => [client, ...made] };
}

/**
 * The Cluster slot of a key: CRC16 (XMODEM) of its hash tag, or of the whole key, mod 16384
 * (the Cluster specification's algorithm, which `CLUSTER KEYSLOT` answers).
 */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key);
  let from = 0;
  let to = bytes.length;
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) {
      from = open + 1;
      to = close;
    }
  }
  let crc = 0;
  for (let i = from; i < to; i++) {
    crc ^= (bytes[i] as number) << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/**
 * The connection to the server that holds `key`: the client itself for one node, or, for a
 * Cluster, its connection to the primary that serves the key's slot now. Commands about the server
 * (INFO, PING, WAIT) have no key for a Cluster to route by; sent there, they describe the
 * primary that holds the gateway's data. Null while a Cluster does not know who serves the slot.
 */
export function serverOf(redis: Redis, key: string): NodeClient | null {
  if (!(redis instanceof Cluster)) return redis;
  const address = redis.slots[keySlot(key)]?.[0];
  if (!address) return null;
  return redis.nodes("master").find((n) => `${n.options.host}:${n.options.port}` === address) ?? null;
}

/** Thrown for a server command while a Cluster does not know the node for the gateway's slot. */
export class SlotUnservedError extends Error {
  override name = "SlotUnservedError";
  constructor(key: string) {
    super(`Cluster isn't ready: no primary is known for the slot of ${key}`);
  }
}

/** `serverOf`, or a SlotUnservedError. */
export function requireServerOf(redis: Redis, key: string): NodeClient {
  const server = serverOf(redis, key);
  if (!server) throw new SlotUnservedError(key);
  return server;
}

/** Until the server that holds `key` answers PING (any key for one node). */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000, key = ""): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await requireServerOf(redis, key).ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

export interface RedisScript {
  run(keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** Queues the script on a pipeline or multi; the result comes with the pipeline's exec(). */
  queue(
    pipeline: ReturnType<Redis["pipeline"]>,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): void;
}

/**
 * A Lua script sent once and then called by its SHA (ioredis defineCommand): EVAL would send
 * the whole script text with every call, which showed up as a tenth of the CPU in profiles.
 * A server that does not know the SHA (a replica just promoted, a restart) gets the text again.
 * On a Cluster the call goes to the node of its first key. `numberOfKeys` null: as many keys as
 * each call passes.
 */
export function defineScript(
  redis: Redis,
  name: string,
  numberOfKeys: number | null,
  lua: string,
): RedisScript {
  redis.defineCommand(name, numberOfKeys === null ? { lua } : { numberOfKeys, lua });
  const head = (keys: readonly string[]) => (numberOfKeys === null ? [keys.length, ...keys] : keys);
  return {
    run: (keys, args) =>
      (redis as unknown as Record<string, ScriptFn>)[name]?.(...head(keys), ...args) as Promise<unknown>,
    queue: (pipeline, keys, args) => {
      (pipeline as unknown as Record<string, ScriptFn>)[name]?.(...head(keys), ...args);
    },
  };
}
