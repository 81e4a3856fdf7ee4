import type { AuthDeps } from "./auth.ts";
import { type WebPageOptions, webPageApi, webPageDir } from "./web-page.ts";

/** The delivery dashboard (web/dashboard) at /dashboard/: served as the playground is (web-page.ts). */
export const DASHBOARD_DIR = webPageDir("dashboard");

export const dashboardApi = (deps: AuthDeps, options: WebPageOptions = {}) =>
  webPageApi("dashboard", "deliveries:read", deps, options);
