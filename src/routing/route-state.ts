import type { Route } from "./route-schema.ts";

/**
 * What a route does with an event or an attempt right now: sends it ("on"), keeps it as a held
 * delivery until it is turned on again ("hold"), or lets it go ("drop", the user's explicit choice).
 * Kept in Redis beside the route (see RouteStore) so an attempt can check it atomically.
 */
export type RouteState = "on" | "hold" | "drop";

export function routeStateOf(route: Pick<Route, "enabled" | "disabledReason" | "whileDisabled">): RouteState {
  if (route.enabled) return "on";
  // Turned off by Hookgate itself (a 410, failing for days): never a silent loss.
  if (route.disabledReason || route.whileDisabled !== "drop") return "hold";
  return "drop";
}
