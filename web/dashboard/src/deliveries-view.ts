/** The deliveries table: GET /v1/deliveries's filters, newest first, paged by `before`. */
import { byId, h, replaceChildren } from "../../playground/src/dom.ts";
import type { DashboardApi, Delivery, DeliveryFilter, Route } from "./api.ts";
import { time } from "./format.ts";

const PAGE = 25;

export class DeliveriesView {
  readonly #api: DashboardApi;
  readonly #open: (id: string) => void;
  #filter: DeliveryFilter = {};
  /** `before` of each page shown so far: the first is the newest (none). */
  #pages: (string | undefined)[] = [undefined];
  #last: Delivery[] = [];
  #names = new Map<string, string>();

  constructor(api: DashboardApi, open: (id: string) => void) {
    this.#api = api;
    this.#open = open;
    byId("delivery-filters").addEventListener("submit", (e) => {
      e.preventDefault();
      const since = byId<HTMLInputElement>("f-since").value;
      this.#filter = {
        routeId: byId<HTMLSelectElement>("f-route").value || undefined,
        status: byId<HTMLSelectElement>("f-status").value || undefined,
        since: since ? new Date(since).toISOString() : undefined,
      } as DeliveryFilter;
      this.#pages = [undefined];
      void this.refresh();
    });
    byId("page-newest").addEventListener("click", () => {
      this.#pages = [undefined];
      void this.refresh();
    });
    byId("page-older").addEventListener("click", () => {
      const oldest = this.#last.at(-1);
      if (!oldest) return;
      this.#pages.push(oldest.createdAt);
      void this.refresh();
    });
  }

  async refresh(): Promise<void> {
    const before = this.#pages.at(-1);
    const filter = { ...this.#filter, ...(before ? { before } : {}) };
    this.#last = await this.#api.deliveries(filter, PAGE);
    const names = this.#names;
    replaceChildren(
      byId("deliveries").querySelector("tbody") as HTMLElement,
      ...this.#last.map((d) => {
        const link = h("a", { href: `#delivery/${d.id}`, "data-delivery-id": d.id }, d.id);
        link.addEventListener("click", (e) => {
          e.preventDefault();
          this.#open(d.id);
        });
        return h(
          "tr",
          { "data-status": d.status, "data-route-id": d.routeId },
          h("td", {}, time(d.createdAt)),
          h("td", {}, link),
          h("td", {}, names.get(d.routeId) ?? d.routeId),
          h("td", {}, `${d.eventType} `, h("code", {}, d.eventId)),
          h("td", { class: `status ${d.status}` }, d.status),
          h("td", { class: "n" }, String(d.attemptCount)),
          h("td", {}, d.error ? `${d.error.code}: ${d.error.message}` : ""),
        );
      }),
    );
    byId("page-info").textContent = `page ${this.#pages.length}, ${this.#last.length} deliveries`;
    byId<HTMLButtonElement>("page-older").disabled = this.#last.length < PAGE;
  }

  /** The route filter offers every route; the table names them. */
  setRoutes(routes: Route[]): void {
    this.#names = new Map(routes.map((r) => [r.id, r.name]));
    const select = byId<HTMLSelectElement>("f-route");
    const chosen = select.value;
    replaceChildren(
      select,
      h("option", { value: "" }, "All routes"),
      ...routes.map((r) => h("option", { value: r.id }, r.name)),
    );
    select.value = chosen;
  }
}
