import type { FastifyInstance } from "fastify";
import { type ApiDeps, buildApp, buildOpsApp } from "./api/index.ts";
import type { Config } from "./config/index.ts";
import { AttemptRunner, breakerAt, createGuardedAgent, TargetState } from "./delivery/index.ts";
import { DeliveryLog } from "./delivery-log/index.ts";
import { EventIntake } from "./ingest/index.ts";
import { eventStreamOf, Metrics } from "./metrics/index.ts";
import { OwnEvents } from "./own-events/index.ts";
import { BatchBuffer, DeliveryQueue, DeliveryScheduler, DeliveryWorker, FifoLanes } from "./queue/index.ts";
import { RouteStore, RouteTable, routeStateOf } from "./routing/index.ts";
import { createSandbox } from "./sandbox/index.ts";
import { createAddressPolicy } from "./shared/address-policy.ts";
import { createLogger, errorReporter, type Logger } from "./shared/logger.ts";
import {
  createBlockingRedis,
  createRedis,
  type Redis,
  redisEndpointOf,
  requireServerOf,
  waitForRedis,
} from "./shared/redis.ts";
import { redisKeys } from "./shared/redis-keys.ts";
import { ReplicaAcks } from "./shared/replica-acks.ts";
import { StorageGuard } from "./shared/storage-guard.ts";
import { SourceStore } from "./sources/index.ts";
import { StatsReader, StatsRecorder, walkObservers } from "./stats/index.ts";
import { Walker } from "./walk/index.ts";

/*
 * Wires the stages together for one process. HOOKGATE_ROLE picks what runs here: the API
 * (accepts work), the workers (walk and deliver), or both. They share nothing but Redis, so any
 * number of each can run side by side.
 */

export interface Gateway {
  app: FastifyInstance | null;
  walker: Walker | null;
  worker: DeliveryWorker | null;
  /** This process's Prometheus metrics (served by the API at /metrics). */
  metrics: Metrics;
  /** Graceful: stop taking work, finish what is in flight, hand back the rest, disconnect. */
  close(): Promise<void>;
}

export interface GatewayOptions {
  adminToken: string;
  /**
   * The process's one logger (main.ts makes it), for the API's requests and every stage's errors;
   * a level makes one here (tests); none logs nothing.
   */
  logger?: Logger | { level: string };
}

function loggerOf(option: GatewayOptions["logger"]): Logger {
  if (option === undefined) return createLogger("silent");
  return "child" in option ? option : createLogger(option.level);
}

/** How long an ingest waits for replicas to confirm its events before answering 503. */
const REPLICA_ACK_TIMEOUT_MS = 2_000;

export async function startGateway(config: Config, options: GatewayOptions): Promise<Gateway> {
  const endpoint = redisEndpointOf(config);
  if (!endpoint)
    throw new Error("REDIS_URL, HOOKGATE_REDIS_CLUSTER_NODES or HOOKGATE_REDIS_SENTINELS is required");
  const keys = redisKeys(config.HOOKGATE_KEY_PREFIX);
  const logger = loggerOf(options.logger);
  const redis = createRedis(endpoint);
  // Each Redis client's own errors (its reconnects while Redis is away): logged, not printed by
  // ioredis as "Unhandled error event"; the commands that fail meanwhile are their callers' to handle.
  const redisErrors = errorReporter(logger, "redis");
  redis.on("error", (err) => redisErrors(err, { client: "commands" }));
  // Every key is in the slot of the prefix's hash tag: the server that holds one holds all.
  await waitForRedis(redis, 10_000, keys.events);
  const store = new RouteStore(redis, keys);
  await store.syncStates();
  const storage = new StorageGuard(() => requireServerOf(redis, keys.events).info("memory"), {
    ingestMaxRatio: config.HOOKGATE_REDIS_INGEST_MAX_PERCENT / 100,
    sendMaxRatio: config.HOOKGATE_REDIS_SEND_MAX_PERCENT / 100,
  });
  await storage.start();
  const routes = new RouteTable(store);
  const sandbox = createSandbox({
    mode: config.HOOKGATE_SANDBOX,
    timeoutMs: config.HOOKGATE_FUNCTION_TIMEOUT_MS,
    memoryLimitMb: config.HOOKGATE_FUNCTION_MEMORY_MB,
    maxIsolates: config.HOOKGATE_MAX_ISOLATES,
    maxRssMb: config.HOOKGATE_SANDBOX_RSS_MB,
    onChildLost: (loss) => logger.child({ stage: "sandbox" }).error(loss, "the sandbox process was lost"),
  });
  const log = new DeliveryLog(
    redis,
    keys,
    config.HOOKGATE_DELIVERY_RETENTION_S,
    config.HOOKGATE_DELIVERY_RETENTION_COUNT,
  );
  const queue = new DeliveryQueue(endpoint, keys.prefix);
  queue.queue.on("error", (err) => redisErrors(err, { client: "delivery queue" }));
  const scheduler = new DeliveryScheduler(
    queue,
    new FifoLanes(redis, keys),
    new BatchBuffer(redis, keys),
    log,
  );
  const policy = createAddressPolicy(config.HOOKGATE_TARGET_ALLOW);
  const dispatcher = createGuardedAgent({ policy, connections: 64 });
  const metrics = new Metrics();
  metrics.watchQueue(queue.queue);
  metrics.watchEventStream(eventStreamOf(redis, keys));
  metrics.watchSandbox(sandbox);
  const runWorkers = config.HOOKGATE_ROLE !== "api";
  const runApi = config.HOOKGATE_ROLE !== "worker";

  let walker: Walker | null = null;
  let worker: DeliveryWorker | null = null;
  let runner: AttemptRunner | null = null;
  // Per-minute counts in Redis for GET /v1/stats and the dashboard (workers only count).
  const stats = runWorkers
    ? new StatsRecorder(redis, keys.prefix, { onError: errorReporter(logger, "stats") })
    : null;
  const targets = new TargetState(
    redis,
    keys,
    {
      failureThreshold: config.HOOKGATE_BREAKER_FAILURES,
      cooldownMs: config.HOOKGATE_BREAKER_COOLDOWN_MS,
      maxCooldownMs: config.HOOKGATE_BREAKER_MAX_COOLDOWN_MS,
    },
    errorReporter(logger, "target-state"),
  );
  // Accepted events wait for replicas on a connection of their own: WAIT holds its connection.
  const replicaAcks = config.HOOKGATE_REDIS_REPLICA_ACKS ?? (endpoint.kind === "node" ? 0 : 1);
  let ingestRedis: Redis | null = null;
  let replicas: ReplicaAcks | null = null;
  if (replicaAcks > 0) {
    const client = createRedis(endpoint);
    client.on("error", (err) => redisErrors(err, { client: "ingest" }));
    replicas = new ReplicaAcks(
      () => requireServerOf(client, keys.events),
      replicaAcks,
      REPLICA_ACK_TIMEOUT_MS,
    );
    await waitForRedis(client, 10_000, keys.events);
    await replicas.start();
    ingestRedis = client;
  }
  const intake = new EventIntake(
    ingestRedis ?? redis,
    keys,
    config.HOOKGATE_DEDUP_WINDOW_S,
    storage,
    replicas,
  );
  // Hookgate's own events go into the same stream, walked like any event (see src/own-events).
  const ownEvents = new OwnEvents(intake, { onError: errorReporter(logger, "own-events") });
  store.onDisabled((route, reason) => ownEvents.routeDisabled(route, reason, null));
  let walkerBlocking: Redis | null = null;
  // The API first: its setup (docs, queues board) takes a moment, and workers started before it
  // would be delivering in a process that main.ts cannot yet stop cleanly on SIGTERM.
  let app: FastifyInstance | null = null;
  const needsHttp = runApi || config.HOOKGATE_METRICS_PORT !== undefined;
  if (needsHttp) {
    const deps: ApiDeps = {
      config,
      adminToken: options.adminToken,
      redis,
      store,
      routes,
      sources: new SourceStore(redis, keys),
      sandbox,
      intake,
      ownEvents,
      log,
      queue,
      scheduler,
      policy,
      dispatcher,
      targets,
      targetLanes: (key) => runner?.gate.lanes(key) ?? null,
      metrics,
      stats: new StatsReader(redis, keys.prefix),
      readiness: (): Record<string, boolean> => ({
        // Room in Redis for what is accepted to be walked and recorded (maxmemory).
        redisMemory: storage.verdict().acceptsEvents,
        // Replicas online to confirm accepted events (HOOKGATE_REDIS_REPLICA_ACKS).
        ...(replicas ? { redisReplicas: replicas.ready } : {}),
        ...(runWorkers
          ? { walker: walker?.isHealthy() ?? false, deliveryWorker: worker?.worker.isRunning() ?? false }
          : {}),
      }),
    };
    const appOptions = options.logger === undefined ? {} : { logger };
    // A worker-only process serves just its health and metrics (HOOKGATE_METRICS_PORT).
    app = runApi ? await buildApp(deps, appOptions) : await buildOpsApp(deps, appOptions);
  }

  if (runWorkers) {
    // One per process: the walker's direct first attempts and the worker's share its lanes.
    runner = new AttemptRunner({
      routes: store,
      storage,
      targets,
      dispatcher,
      concurrency: config.HOOKGATE_DELIVERY_CONCURRENCY,
      targetConcurrency: config.HOOKGATE_TARGET_CONCURRENCY,
      disableAfterMs: config.HOOKGATE_DISABLE_AFTER_S * 1000,
      excerptBytes: config.HOOKGATE_RESPONSE_EXCERPT_BYTES,
      ownEvents,
      onError: errorReporter(logger, "attempt"),
      onAttempt: (report) => {
        metrics.attempt(report);
        stats?.attempt(report);
        if (report.breaker) metrics.setBreakerState(report.target, breakerAt(report.breaker, Date.now()));
      },
    });
    walkerBlocking = createBlockingRedis(endpoint);
    walkerBlocking.on("error", (err) => redisErrors(err, { client: "walker" }));
    walker = new Walker({
      redis,
      blocking: walkerBlocking,
      keys,
      routes,
      sandbox,
      log,
      scheduler,
      concurrency: config.HOOKGATE_WALK_CONCURRENCY,
      lockMs: config.HOOKGATE_LOCK_MS,
      observer: stats ? walkObservers(metrics, stats) : metrics,
      ownEvents,
      ...(config.HOOKGATE_DIRECT_ATTEMPTS ? { direct: { runner, store } } : {}),
      onError: errorReporter(logger, "walker"),
    });
    await walker.start();
    worker = new DeliveryWorker({
      redis: endpoint,
      prefix: keys.prefix,
      routes,
      store,
      log,
      scheduler,
      runner,
      concurrency: config.HOOKGATE_DELIVERY_CONCURRENCY,
      lockMs: config.HOOKGATE_LOCK_MS,
      onDeferred: (reason) => metrics.deferred(reason),
      onError: errorReporter(logger, "delivery-worker"),
      ownEvents,
    });
  }

  if (runWorkers) {
    // Held deliveries of routes that are on (a release cut short by a crash) go now.
    void (async () => {
      for (const route of await store.list())
        if (routeStateOf(route) === "on") await scheduler.releaseHeld(route);
    })().catch(errorReporter(logger, "release-held"));
  }

  return {
    app,
    walker,
    worker,
    metrics,
    async close() {
      await app?.close();
      await Promise.all([walker?.stop(), worker?.close()]);
      await ownEvents.close();
      await stats?.close();
      await queue.close();
      await dispatcher.close();
      sandbox.dispose();
      storage.stop();
      replicas?.stop();
      for (const c of [redis, walkerBlocking, ingestRedis]) c?.disconnect();
    },
  };
}
