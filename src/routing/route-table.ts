import { type CompiledRoute, compileRoute } from "./route-match.ts";
import type { RouteStore } from "./route-store.ts";

/**
 * The walk order with globs compiled, cached until the store's revision moves. One GET per
 * refresh keeps every walker current without a pub/sub channel that could drop a message.
 */
export class RouteTable {
  readonly #store: RouteStore;
  #revision = -1;
  #routes: CompiledRoute[] = [];
  #byId = new Map<string, CompiledRoute>();
  #loading: Promise<void> | null = null;

  constructor(store: RouteStore) {
    this.#store = store;
  }

  async current(): Promise<readonly CompiledRoute[]> {
    await this.refresh();
    return this.#routes;
  }

  async byId(id: string): Promise<CompiledRoute | undefined> {
    await this.refresh();
    return this.#byId.get(id);
  }

  async refresh(): Promise<void> {
    // Concurrent callers share one load instead of each reading every route.
    this.#loading ??= this.#load().finally(() => {
      this.#loading = null;
    });
    await this.#loading;
  }

  async #load(): Promise<void> {
    const revision = await this.#store.revision();
    if (revision === this.#revision) return;
    const routes = (await this.#store.list()).map(compileRoute);
    this.#routes = routes;
    this.#byId = new Map(routes.map((r) => [r.route.id, r]));
    this.#revision = revision;
  }
}
