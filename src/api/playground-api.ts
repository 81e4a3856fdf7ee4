import type { ApiDeps } from "./deps.ts";
import { type WebPageOptions, webPageApi, webPageDir } from "./web-page.ts";

/** The dry-run playground (web/playground) at /playground/: see web-page.ts for how it is served. */
export const PLAYGROUND_DIR = webPageDir("playground");

export const playgroundApi = (deps: Pick<ApiDeps, "adminToken">, options: WebPageOptions = {}) =>
  webPageApi("playground", deps, options);
