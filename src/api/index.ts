export { buildApp, buildOpsApp } from "./build-app.ts";
export type { ApiDeps } from "./deps.ts";
