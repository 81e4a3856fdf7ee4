import type { AuthDeps } from "./auth.ts";
import { type WebPageOptions, webPageApi, webPageDir } from "./web-page.ts";

/** The dry-run playground (web/playground) at /playground/: see web-page.ts for how it is served. */
export const PLAYGROUND_DIR = webPageDir("playground");

export const playgroundApi = (deps: AuthDeps, options: WebPageOptions = {}) =>
  webPageApi("playground", "routes:read", deps, options);
