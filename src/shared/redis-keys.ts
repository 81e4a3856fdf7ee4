/**
 * Every Redis key and queue name in one place (BullMQ's queue-keys.ts). The prefix comes from
 * HOOKGATE_KEY_PREFIX; wrap it in braces ({hg}) to keep all keys in one Redis Cluster slot.
 */
export interface RedisKeys {
  prefix: string;
  routes: string;
  routeOrder: string;
  routesRev: string;
  events: string;
  seenEvent: (eventId: string) => string;
  delivery: (deliveryId: string) => string;
  deliveryAttempts: (deliveryId: string) => string;
  deliveriesAll: string;
  deliveriesByRoute: (routeId: string) => string;
  /** Email sources (id → JSON). */
  sources: string;
}

export const WALK_GROUP = "walkers";
export const DELIVERY_QUEUE = "deliveries";

export function redisKeys(prefix: string): RedisKeys {
  return {
    prefix,
    routes: `${prefix}:routes`,
    routeOrder: `${prefix}:routes:order`,
    routesRev: `${prefix}:routes:rev`,
    events: `${prefix}:events`,
    seenEvent: (id) => `${prefix}:seen:${id}`,
    delivery: (id) => `${prefix}:dlv:${id}`,
    deliveryAttempts: (id) => `${prefix}:dlv:${id}:attempts`,
    deliveriesAll: `${prefix}:dlv-index:all`,
    deliveriesByRoute: (routeId) => `${prefix}:dlv-index:route:${routeId}`,
    sources: `${prefix}:sources`,
  };
}
