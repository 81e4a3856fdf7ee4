/**
 * The dashboard: routes and targets at a glance, counts over time, deliveries and their attempts,
 * and the operator's actions, all from the /v1 API (see api.ts), refreshed by polling.
 */
import { apiClient, loadToken } from "../../playground/src/api-client.ts";
import { byId, h, replaceChildren } from "../../playground/src/dom.ts";
import { type DashboardApi, dashboardApi, type Route, readiness } from "./api.ts";
import { drawChart } from "./charts.ts";
import { DeliveriesView } from "./deliveries-view.ts";
import { showDelivery } from "./delivery-view.ts";
import { loadRouteRows, renderRoutes } from "./routes-view.ts";
import "./style.css";

const POLL_MS = 5_000;
const RANGES = { hour: { ms: 3_600_000, step: 60 }, day: { ms: 86_400_000, step: 900 } } as const;

let routes: Route[] = [];
let openDelivery: string | null = null;

async function refreshReadiness(): Promise<void> {
  const ready = await readiness();
  const banner = byId("not-ready");
  banner.hidden = ready.ok;
  banner.textContent = ready.ok
    ? ""
    : `The gateway is not ready: ${ready.failing.join(", ") || "unknown"} failing`;
}

async function refreshChart(api: DashboardApi): Promise<void> {
  const range = RANGES[byId<HTMLSelectElement>("chart-range").value as keyof typeof RANGES] ?? RANGES.hour;
  const routeId = byId<HTMLSelectElement>("chart-route").value;
  const stats = await api.stats({
    ...(routeId ? { routeId } : {}),
    since: new Date(Date.now() - range.ms).toISOString(),
    step: range.step,
  });
  const t = stats.totals;
  byId("chart-totals").textContent =
    `in ${t.in}, delivered ${t.delivered}, failed ${t.failed}, retrying ${t.retrying}`;
  drawChart(byId("chart"), stats.series, "large");
}

function setChartRoutes(list: Route[]): void {
  const select = byId<HTMLSelectElement>("chart-route");
  const chosen = select.value;
  replaceChildren(
    select,
    h("option", { value: "" }, "All routes"),
    ...list.map((r) => h("option", { value: r.id }, r.name)),
  );
  select.value = chosen;
}

async function start(): Promise<void> {
  const api = dashboardApi(apiClient(await loadToken()));
  const open = (id: string) => {
    openDelivery = id;
    history.replaceState(null, "", `#delivery/${id}`);
    void showDelivery(api, id, refresh).then(() => byId("delivery").scrollIntoView());
  };
  const deliveries = new DeliveriesView(api, open);
  let running: Promise<void> | null = null;

  async function refreshAll(): Promise<void> {
    const since = new Date(Date.now() - RANGES.hour.ms).toISOString();
    const [rows] = await Promise.all([loadRouteRows(api, since), refreshReadiness()]);
    routes = rows.map((r) => r.route);
    setChartRoutes(routes);
    deliveries.setRoutes(routes);
    renderRoutes(byId("routes").querySelector("tbody") as HTMLElement, rows, api, refresh);
    await Promise.all([
      refreshChart(api),
      deliveries.refresh(),
      openDelivery ? showDelivery(api, openDelivery, refresh) : Promise.resolve(),
    ]);
    byId("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.ready = "true";
  }

  /** One refresh at a time; a failed one says so and the next poll tries again. */
  function refresh(): void {
    if (running) return;
    running = refreshAll()
      .catch((err) => {
        byId("updated").textContent = `refresh failed: ${String(err)}`;
        void refreshReadiness();
      })
      .finally(() => {
        running = null;
      });
  }

  for (const id of ["chart-route", "chart-range"])
    byId(id).addEventListener("change", () => void refreshChart(api));
  byId("delivery-close").addEventListener("click", () => {
    openDelivery = null;
    byId("delivery").hidden = true;
    history.replaceState(null, "", "#");
  });
  const linked = /^#delivery\/(.+)$/.exec(location.hash)?.[1];
  if (linked) open(decodeURIComponent(linked));
  refresh();
  setInterval(refresh, POLL_MS);
}

void start().catch((err) => {
  byId("updated").textContent = `could not start: ${String(err)}`;
});
