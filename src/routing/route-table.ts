import { routeIndexOf } from "./route-index.ts";
import { type CompiledRoute, compileRoute } from "./route-match.ts";
import type { RouteStore } from "./route-store.ts";

/**
 * The walk order with globs compiled and indexed by event type and source (see route-index.ts),
 * cached until the store's revision moves. One GET per refresh keeps every walker current without
 * a pub/sub channel that could drop a message.
 */
export class RouteTable {
  readonly #store: RouteStore;
  #revision = -1;
  #routes: readonly CompiledRoute[] = [];
  #byId = new Map<string, CompiledRoute>();
  #loading: Promise<void> | null = null;
  #checkedAt = 0;
  readonly #maxStaleMs: number;

  /** @param maxStaleMs how old a cached route may be when a delivery asks for it (see forDelivery) */
  constructor(store: RouteStore, maxStaleMs = 1000) {
    this.#store = store;
    this.#maxStaleMs = maxStaleMs;
  }

  async current(): Promise<readonly CompiledRoute[]> {
    await this.refresh();
    return this.#routes;
  }

  async byId(id: string): Promise<CompiledRoute | undefined> {
    await this.refresh();
    return this.#byId.get(id);
  }

  /**
   * The route for an attempt, without a Redis round trip when the cache already holds the version
   * the delivery was walked with (or newer) and was checked within `maxStaleMs`: an attempt never
   * uses an older route than its walk did, and later changes reach it within that window.
   */
  async forDelivery(id: string, walkedVersion: number): Promise<CompiledRoute | undefined> {
    const cached = this.#byId.get(id);
    if (cached && cached.route.version >= walkedVersion && Date.now() - this.#checkedAt < this.#maxStaleMs) {
      return cached;
    }
    return this.byId(id);
  }

  async refresh(): Promise<void> {
    // Concurrent callers share one load instead of each reading every route.
    this.#loading ??= this.#load().finally(() => {
      this.#loading = null;
    });
    await this.#loading;
  }

  async #load(): Promise<void> {
    const checkedAt = Date.now();
    const revision = await this.#store.revision();
    this.#checkedAt = checkedAt;
    if (revision === this.#revision) return;
    // Frozen: the index built here is kept for this very list and must stay true to it.
    const routes = Object.freeze((await this.#store.list()).map(compileRoute));
    routeIndexOf(routes);
    this.#routes = routes;
    this.#byId = new Map(routes.map((r) => [r.route.id, r]));
    this.#revision = revision;
  }
}
