import type { ApiDeps } from "./deps.ts";
import { type WebPageOptions, webPageApi, webPageDir } from "./web-page.ts";

/** The delivery dashboard (web/dashboard) at /dashboard/: served as the playground is (web-page.ts). */
export const DASHBOARD_DIR = webPageDir("dashboard");

export const dashboardApi = (deps: Pick<ApiDeps, "adminToken">, options: WebPageOptions = {}) =>
  webPageApi("dashboard", deps, options);
