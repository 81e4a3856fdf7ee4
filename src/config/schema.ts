import { z } from "zod";
import { isValidCidr } from "../shared/address-policy.ts";

const cidr = z.string().refine(isValidCidr, "must be an IP address or CIDR such as 127.0.0.0/8 or ::1/128");

const csv = (inner: z.ZodType<string, string>) =>
  z
    .string()
    .default("")
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(inner));

const int = (min: number, max: number, dflt: number) =>
  z.coerce.number().int().min(min).max(max).default(dflt);

/** `host:port` (an IPv6 address in brackets: `[::1]:6379`). */
const hostPort = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "must be host:port")
  .transform((s) => {
    const at = s.lastIndexOf(":");
    return { host: s.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(s.slice(at + 1)) };
  })
  .refine((a) => a.port > 0 && a.port < 65536, "port must be 1-65535");

const hostPorts = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(hostPort).min(1, "must name at least one host:port"))
  .optional();

/**
 * Redis Cluster's hash tag of a key: what is between its first `{` and the next `}`, when not
 * empty (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags).
 */
export function hashTagOf(key: string): string | null {
  const open = key.indexOf("{");
  const close = open < 0 ? -1 : key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}

/** Each setting on its own; ConfigSchema adds the rules between them. */
const ConfigFields = z.object({
  PORT: int(0, 65535, 3000),
  /** A worker-only process (HOOKGATE_ROLE=worker) serves /healthz, /readyz and /metrics here. */
  HOOKGATE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HOST: z.string().min(1).default("127.0.0.1"),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  /** Seed nodes of a Redis Cluster (`host:port,…`), instead of REDIS_URL. */
  HOOKGATE_REDIS_CLUSTER_NODES: hostPorts,
  /** Redis Sentinels (`host:port,…`) that know the primary named HOOKGATE_REDIS_SENTINEL_NAME. */
  HOOKGATE_REDIS_SENTINELS: hostPorts,
  HOOKGATE_REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  HOOKGATE_REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** Credentials and TLS of Cluster nodes or the Sentinel-managed primary (REDIS_URL carries its own). */
  HOOKGATE_REDIS_USERNAME: z.string().min(1).optional(),
  HOOKGATE_REDIS_PASSWORD: z.string().min(1).optional(),
  HOOKGATE_REDIS_TLS: z
    .enum(["on", "off"])
    .default("off")
    .transform((v) => v === "on"),
  /**
   * Replicas that must have an event before its 202 (Redis WAIT), so a failover to a replica
   * loses no accepted event. Unset: 1 with Cluster or Sentinel, 0 with REDIS_URL.
   */
  HOOKGATE_REDIS_REPLICA_ACKS: z.coerce.number().int().min(0).max(16).optional(),
  HOOKGATE_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  HOOKGATE_DATA_DIR: z.string().min(1).default(".data"),
  HOOKGATE_TARGET_ALLOW: csv(cidr),
  HOOKGATE_ROLE: z.enum(["all", "api", "worker"]).default("all"),
  HOOKGATE_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_{}-]+$/)
    .default("hg"),
  HOOKGATE_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024, 1024 * 1024),
  HOOKGATE_DEDUP_WINDOW_S: int(60, 90 * 24 * 3600, 7 * 24 * 3600),
  HOOKGATE_FUNCTION_TIMEOUT_MS: int(10, 60_000, 1000),
  HOOKGATE_FUNCTION_MEMORY_MB: int(8, 1024, 64),
  /** Where route functions run: a child process that holds no secrets, or this process. */
  HOOKGATE_SANDBOX: z.enum(["process", "inline"]).default("process"),
  /** Warm isolates kept (one per route version, ~2.5 MB each); the least recently used go first. */
  HOOKGATE_MAX_ISOLATES: int(1, 100_000, 200),
  /** Process mode: the sandbox process is replaced past this resident memory (MB), killed at 1.5x. */
  HOOKGATE_SANDBOX_RSS_MB: int(128, 1_048_576, 1536),
  // Walks whose commit is still in flight hold a lane, so this is well above the core count.
  HOOKGATE_WALK_CONCURRENCY: int(1, 4096, 256),
  HOOKGATE_DELIVERY_CONCURRENCY: int(1, 4096, 128),
  HOOKGATE_RESPONSE_EXCERPT_BYTES: int(0, 65536, 1024),
  HOOKGATE_DELIVERY_RETENTION_S: int(60, 365 * 24 * 3600, 7 * 24 * 3600),
  /** Delivery records kept at most (the oldest finished ones go first), so Redis memory is bounded. */
  HOOKGATE_DELIVERY_RETENTION_COUNT: int(100, 100_000_000, 100_000),
  /** How long audit entries are kept (GET /v1/audit), and how many at most (the oldest go first). */
  HOOKGATE_AUDIT_RETENTION_S: int(3600, 10 * 365 * 24 * 3600, 90 * 24 * 3600),
  HOOKGATE_AUDIT_RETENTION_COUNT: int(100, 10_000_000, 100_000),
  /** Requests in flight to one target per worker process, unless the route sets target.maxConcurrency. */
  HOOKGATE_TARGET_CONCURRENCY: int(1, 1000, 16),
  /** Consecutive failed attempts (no answer, 5xx, 408) that open a target's circuit breaker. */
  HOOKGATE_BREAKER_FAILURES: int(1, 10_000, 10),
  HOOKGATE_BREAKER_COOLDOWN_MS: int(100, 3_600_000, 30_000),
  HOOKGATE_BREAKER_MAX_COOLDOWN_MS: int(100, 24 * 3_600_000, 600_000),
  /** A route whose target has not answered with a success for this long is disabled (Svix: 5 days). */
  HOOKGATE_DISABLE_AFTER_S: int(1, 365 * 24 * 3600, 5 * 24 * 3600),
  /**
   * First attempts made by the walker itself while a target answers well and fast ("on"), or
   * every attempt through the delivery queue ("off").
   */
  HOOKGATE_DIRECT_ATTEMPTS: z
    .enum(["on", "off"])
    .default("on")
    .transform((v) => v === "on"),
  /** How long a crashed process's in-flight work stays claimed before another process takes it. */
  HOOKGATE_LOCK_MS: int(1000, 600_000, 30_000),
  /** Above this share of Redis's maxmemory, new events are refused with 503 HG_ERR_STORAGE_FULL. */
  HOOKGATE_REDIS_INGEST_MAX_PERCENT: int(1, 100, 90),
  /** Above this share, no attempt is sent: its record could not be written, so it would go twice. */
  HOOKGATE_REDIS_SEND_MAX_PERCENT: int(1, 100, 97),
  HOOKGATE_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** Every setting Hookgate reads from the environment. Units are in the names. */
export const ConfigSchema = ConfigFields.superRefine((c, ctx) => {
  const given = [
    c.REDIS_URL && "REDIS_URL",
    c.HOOKGATE_REDIS_CLUSTER_NODES && "HOOKGATE_REDIS_CLUSTER_NODES",
    c.HOOKGATE_REDIS_SENTINELS && "HOOKGATE_REDIS_SENTINELS",
  ].filter((x): x is string => Boolean(x));
  if (given.length > 1)
    ctx.addIssue({
      code: "custom",
      path: [given[1] as string],
      message: `set only one of ${given.join(", ")}`,
    });
  if (c.HOOKGATE_REDIS_SENTINELS && !c.HOOKGATE_REDIS_SENTINEL_NAME)
    ctx.addIssue({
      code: "custom",
      path: ["HOOKGATE_REDIS_SENTINEL_NAME"],
      message:
        "is required with HOOKGATE_REDIS_SENTINELS (the primary's name in the Sentinels' configuration)",
    });
  // Hookgate's and BullMQ's scripts and transactions touch several keys at once, which a Cluster
  // allows only within one slot: the prefix's hash tag puts every key in the same one.
  if (c.HOOKGATE_REDIS_CLUSTER_NODES && hashTagOf(c.HOOKGATE_KEY_PREFIX) === null)
    ctx.addIssue({
      code: "custom",
      path: ["HOOKGATE_KEY_PREFIX"],
      message: `needs a hash tag with Redis Cluster, such as {${c.HOOKGATE_KEY_PREFIX.replace(/[{}]/g, "") || "hg"}}, so that every key is in one slot`,
    });
});

export type Config = z.infer<typeof ConfigSchema>;
