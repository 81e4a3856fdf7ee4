import { targetKeyOf } from "../delivery/index.ts";
import { type HookgateEvent, isOwnType } from "../events/index.ts";
import type { Route } from "../routing/index.ts";

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
