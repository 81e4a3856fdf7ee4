import { targetKeyOf } from "../delivery/target-policy.ts";
import type { HookgateEvent } from "../events/index.ts";
import type { Route } from "../routing/route-schema.ts";

/*
 * Pure rules about Hookgate's own events (src/own-events/own-events.ts emits them): which types
 * are ours, which globs ask for them, and which route an event is about, so that no route is fed
 * the news of its own trouble.
 */

/** The source and source kind of every event Hookgate emits about itself. */
export const OWN_SOURCE = "hookgate";
export const OWN_PREFIX = "hookgate.";

export const OWN_EVENT_TYPES = [
  "hookgate.route.disabled",
  "hookgate.route.enabled",
  "hookgate.target.breaker_opened",
  "hookgate.target.breaker_closed",
  "hookgate.target.paused",
  "hookgate.delivery.failed",
  "hookgate.source.rejected",
] as const;
export type OwnEventType = (typeof OWN_EVENT_TYPES)[number];

export const isOwnType = (type: string): boolean => type.startsWith(OWN_PREFIX);

/**
 * Whether a route's glob may take Hookgate's own events: only a glob that names them from its
 * first character (`hookgate.*`, `hookgate.route.*`). `*`, `*.disabled` or `hook*` do not: a
 * route made for mail never starts receiving the gateway's news unasked.
 */
export const globAsksForOwn = (glob: string): boolean => glob.startsWith(OWN_PREFIX);

/**
 * Whether `event` is one of ours about `route` itself (data.routeId) or about its target
 * (data.target): such an event is never delivered to that route, so a route whose target fails
 * cannot feed itself the news of its failure, and that news's failure, in a loop.
 */
export function aboutRoute(event: Pick<HookgateEvent, "type" | "data">, route: Route): boolean {
  if (!isOwnType(event.type) || !event.data || typeof event.data !== "object") return false;
  const data = event.data as { routeId?: unknown; target?: unknown };
  if (data.routeId === route.id) return true;
  return typeof data.target === "string" && data.target === targetKeyOf(route.target.url);
}
