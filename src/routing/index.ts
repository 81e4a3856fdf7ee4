export { batchProblem } from "./batch-rules.ts";
export {
  applyRoutePatch,
  buildRoute,
  MAX_PREVIOUS_SECRETS,
  rotateRouteSecret,
  type SecretRotation,
} from "./route-build.ts";
export { checkFunction, checkRouteContent } from "./route-check.ts";
export { changedFields, rollbackRoute } from "./route-history.ts";
export {
  candidateRoutes,
  type EventKeys,
  type GlobKey,
  globKey,
  RouteIndex,
  routeIndexOf,
  scanCandidates,
} from "./route-index.ts";
export { type CompiledRoute, compileRoute, globMatches, sourceMatches } from "./route-match.ts";
export {
  DEFAULT_RETRY_SCHEDULE_MS,
  type Route,
  type RouteIn,
  RouteInSchema,
  type RoutePatch,
  RoutePatchSchema,
} from "./route-schema.ts";
export { type RouteState, routeStateOf } from "./route-state.ts";
export { type ChangedBy, RouteStore, type RouteVersion, VERSIONS_KEPT } from "./route-store.ts";
export { RouteTable } from "./route-table.ts";
