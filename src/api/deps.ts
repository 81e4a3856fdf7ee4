import type { Dispatcher } from "undici";
import type { Config } from "../config/index.ts";
import type { TargetState } from "../delivery/index.ts";
import type { DeliveryLog } from "../delivery-log/index.ts";
import type { EventIntake } from "../ingest/index.ts";
import type { Metrics } from "../metrics/index.ts";
import type { OwnEvents } from "../own-events/index.ts";
import type { DeliveryQueue, DeliveryScheduler } from "../queue/index.ts";
import type { RouteStore, RouteTable } from "../routing/index.ts";
import type { Sandbox } from "../sandbox/index.ts";
import type { AddressPolicy } from "../shared/address-policy.ts";
import type { Redis } from "../shared/redis.ts";
import type { SourceStore } from "../sources/index.ts";
import type { StatsReader } from "../stats/index.ts";

/** Everything the API plugins use, built once by main.ts (or a test) and passed in. */
export interface ApiDeps {
  config: Config;
  adminToken: string;
  redis: Redis;
  store: RouteStore;
  routes: RouteTable;
  sources: SourceStore;
  sandbox: Sandbox;
  intake: EventIntake;
  log: DeliveryLog;
  queue: DeliveryQueue;
  /** Where a delivery sent again by hand goes: the queue or its route's FIFO lane. */
  scheduler: DeliveryScheduler;
  policy: AddressPolicy;
  dispatcher: Dispatcher;
  /** Every target's shared state (breaker, pause, last answers): GET /v1/targets and resume. */
  targets: TargetState;
  /** Requests to a target (its key) in flight from this process, or null when it sends none. */
  targetLanes?: (targetKey: string) => { inFlight: number; waiting: number } | null;
  /** This gateway's Prometheus metrics (GET /metrics). */
  metrics: Metrics;
  /** The per-minute counters in Redis (GET /v1/stats). */
  stats?: StatsReader;
  /** Hookgate's own events (hookgate.route.enabled, hookgate.source.rejected, ...). */
  ownEvents?: OwnEvents;
  /** Extra readiness checks (the workers of this process), by name. */
  readiness?: () => Record<string, boolean>;
}
