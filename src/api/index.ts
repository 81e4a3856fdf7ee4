export { buildApp, buildOpsApp } from "./build-app.ts";
export type { ApiDeps } from "./deps.ts";
export { type RouteOut, RouteOutSchema, toRouteOut } from "./route-out.ts";
