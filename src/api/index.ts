export { buildApp } from "./build-app.ts";
export type { ApiDeps } from "./deps.ts";
