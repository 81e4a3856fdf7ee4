/**
 * Every Redis key and queue name in one place (BullMQ's queue-keys.ts). The prefix comes from
 * HOOKGATE_KEY_PREFIX; wrap it in braces ({hg}) to keep all keys in one Redis Cluster slot.
 */
export interface RedisKeys {
  prefix: string;
  routes: string;
  routeOrder: string;
  routesRev: string;
  /** Each route's state (id → on | hold | drop), written with the route: what attempts check. */
  routeStates: string;
  /** Attempts being sent to a route (sorted set, scored by their deadline): a delete waits for them. */
  routeSends: (routeId: string) => string;
  /** A route's stored versions, newest first (capped list of {version, changedAt, keyId, route}). */
  routeVersions: (routeId: string) => string;
  /** A turned-off route's held deliveries, in ingest order (members `<order>|<deliveryId>`). */
  heldDeliveries: (routeId: string) => string;
  events: string;
  seenEvent: (eventId: string) => string;
  delivery: (deliveryId: string) => string;
  deliveryAttempts: (deliveryId: string) => string;
  deliveriesAll: string;
  deliveriesByRoute: (routeId: string) => string;
  /** Email sources (id → JSON). */
  sources: string;
  /** Circuit breaker of one target endpoint (hash), its probe lock, rate (GCRA) and pause keys. */
  target: (targetKey: string) => string;
  targetProbe: (targetKey: string) => string;
  targetRate: (targetKey: string) => string;
  targetPause: (targetKey: string) => string;
  /** A target's last answers that were not a plain success (capped list, newest first). */
  targetAnswers: (targetKey: string) => string;
  /** When a target last answered 2xx (ms; written at most every few seconds per process). */
  targetLastSuccess: (targetKey: string) => string;
  /** FIFO lane of one route: its undelivered deliveries ordered by ingest (sorted set). */
  fifoLane: (routeId: string) => string;
  /** Routes that have a FIFO lane, for the sweeper that restarts a lane after a crash. */
  fifoLanes: string;
  /** Batch buffer of one route: order (sorted set) and items (hash), and cuts already made. */
  batchOrder: (routeId: string) => string;
  batchItems: (routeId: string) => string;
  batchCut: (flushId: string) => string;
}

export const WALK_GROUP = "walkers";
export const DELIVERY_QUEUE = "deliveries";

export function redisKeys(prefix: string): RedisKeys {
  return {
    prefix,
    routes: `${prefix}:routes`,
    routeOrder: `${prefix}:routes:order`,
    routesRev: `${prefix}:routes:rev`,
    routeStates: `${prefix}:routes:state`,
    routeSends: (routeId) => `${prefix}:routes:sends:${routeId}`,
    routeVersions: (routeId) => `${prefix}:routes:versions:${routeId}`,
    heldDeliveries: (routeId) => `${prefix}:held:${routeId}`,
    events: `${prefix}:events`,
    seenEvent: (id) => `${prefix}:seen:${id}`,
    delivery: (id) => `${prefix}:dlv:${id}`,
    deliveryAttempts: (id) => `${prefix}:dlv:${id}:attempts`,
    deliveriesAll: `${prefix}:dlv-index:all`,
    deliveriesByRoute: (routeId) => `${prefix}:dlv-index:route:${routeId}`,
    sources: `${prefix}:sources`,
    target: (k) => `${prefix}:tgt:${k}`,
    targetProbe: (k) => `${prefix}:tgt:${k}:probe`,
    targetRate: (k) => `${prefix}:tgt:${k}:rate`,
    targetPause: (k) => `${prefix}:tgt:${k}:pause`,
    targetAnswers: (k) => `${prefix}:tgt:${k}:answers`,
    targetLastSuccess: (k) => `${prefix}:tgt:${k}:ok`,
    fifoLane: (routeId) => `${prefix}:fifo:${routeId}`,
    fifoLanes: `${prefix}:fifo-lanes`,
    batchOrder: (routeId) => `${prefix}:batch:${routeId}:order`,
    batchItems: (routeId) => `${prefix}:batch:${routeId}:items`,
    batchCut: (flushId) => `${prefix}:batch-cut:${flushId}`,
  };
}
