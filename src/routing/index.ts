export { applyRoutePatch, buildRoute } from "./route-build.ts";
export { type CompiledRoute, compileRoute, globToRegExp, sourceMatches } from "./route-match.ts";
export {
  DEFAULT_RETRY_SCHEDULE_MS,
  REDACTED,
  type Route,
  type RouteIn,
  RouteInSchema,
  type RouteOut,
  RouteOutSchema,
  type RoutePatch,
  RoutePatchSchema,
  SecretSchema,
  toRouteOut,
} from "./route-schema.ts";
export { RouteStore } from "./route-store.ts";
export { RouteTable } from "./route-table.ts";
