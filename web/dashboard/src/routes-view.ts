/** The routes table: state, target, last hour's numbers and a small chart, and their actions. */
import { h, replaceChildren } from "../../playground/src/dom.ts";
import { act } from "./actions.ts";
import { type DashboardApi, HELD_COUNT_LIMIT, type Route, type Stats, type Target } from "./api.ts";
import { drawChart } from "./charts.ts";
import { ms, resumable, routeState, targetState } from "./format.ts";

export interface RouteRow {
  route: Route;
  target: Target | undefined;
  held: number;
  stats: Stats;
}

export async function loadRouteRows(api: DashboardApi, since: string): Promise<RouteRow[]> {
  const [routes, targets] = await Promise.all([api.routes(), api.targets()]);
  const targetOf = new Map(targets.flatMap((t) => t.routes.map((id) => [id, t] as const)));
  return Promise.all(
    routes.map(async (route) => {
      const [held, stats] = await Promise.all([
        route.enabled
          ? Promise.resolve([])
          : api.deliveries({ routeId: route.id, status: "held" }, HELD_COUNT_LIMIT),
        api.stats({ routeId: route.id, since, step: 60 }),
      ]);
      return { route, target: targetOf.get(route.id), held: held.length, stats };
    }),
  );
}

/** A datetime-local input for "redrive since", an hour ago by default. */
function sinceInput(): HTMLInputElement {
  const input = h("input", { type: "datetime-local", step: "1", id: "redrive-since" });
  const hourAgo = new Date(Date.now() - 3_600_000);
  input.value = new Date(hourAgo.getTime() - hourAgo.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
  return input;
}

function actionsOf(row: RouteRow, api: DashboardApi, refresh: () => void): HTMLElement {
  const { route, target, held } = row;
  const button = (label: string, action: string, onClick: () => Promise<boolean>) => {
    const b = h("button", { type: "button", "data-action": action }, label);
    b.addEventListener("click", () => void onClick().then((ran) => ran && refresh()));
    return b;
  };
  const cell = h("td", { class: "actions" });
  cell.append(
    route.enabled
      ? button("Turn off", "off", () =>
          act(
            `Turn route ${route.name} off? It ${route.whileDisabled === "hold" ? "holds" : "drops"} its events while off.`,
            async () => {
              await api.setEnabled(route.id, false);
              return `Route ${route.name} is off`;
            },
          ),
        )
      : button(held > 0 ? "Turn on and release held" : "Turn on", "on", () =>
          act(
            `Turn route ${route.name} on?${held > 0 ? ` Its ${held} held deliveries are sent, in order.` : ""}`,
            async () => {
              await api.setEnabled(route.id, true);
              return `Route ${route.name} is on${held > 0 ? `; ${held} held deliveries released` : ""}`;
            },
          ),
        ),
  );
  if (!route.enabled && held > 0)
    cell.append(
      button("Drop held", "drop-held", () =>
        act(
          `Drop the ${held} held deliveries of ${route.name}? They end as failed and are never sent.`,
          async () => {
            const { dropped } = await api.dropHeld(route.id);
            return `Dropped ${dropped} held deliveries of ${route.name}`;
          },
        ),
      ),
    );
  cell.append(
    button("Redrive…", "redrive", () => {
      const since = sinceInput();
      return act(
        `Send again every failed delivery of ${route.name} created since:`,
        async () => {
          const r = await api.redrive(route.id, new Date(since.value).toISOString());
          return `Redrive of ${route.name}: ${r.redriven} sent again of ${r.scanned} looked at${r.notSent.length ? `, ${r.notSent.length} could not be sent` : ""}`;
        },
        h("label", {}, "Since ", since),
      );
    }),
  );
  if (target && resumable(target))
    cell.append(
      button("Resume target", "resume", () =>
        act(
          `Resume ${target.url}? Its pause is lifted and its breaker closed; waiting deliveries go now.`,
          async () => {
            const t = await api.resume(target.id);
            return `Target ${t.url} resumed: breaker ${t.breaker.state}${t.pausedUntil ? `, paused until ${t.pausedUntil}` : ", not paused"}`;
          },
        ),
      ),
    );
  return cell;
}

export function renderRoutes(
  tbody: HTMLElement,
  rows: RouteRow[],
  api: DashboardApi,
  refresh: () => void,
): void {
  replaceChildren(
    tbody,
    ...rows.map((row) => {
      const { route, target, stats } = row;
      const t = stats.totals;
      const chart = h("div", { class: "spark" });
      const tr = h(
        "tr",
        { "data-route-id": route.id, "data-state": route.enabled ? "on" : "off" },
        h("td", {}, h("strong", {}, route.name), h("br"), h("code", {}, route.id)),
        h("td", { "data-field": "state" }, routeState(route, row.held)),
        h(
          "td",
          { "data-field": "target" },
          h("span", { class: "url" }, target?.url ?? route.target.url),
          h("br"),
          targetState(target),
        ),
        h("td", { class: "n", "data-field": "in" }, String(t.in)),
        h("td", { class: "n", "data-field": "delivered" }, String(t.delivered)),
        h("td", { class: "n", "data-field": "failed" }, String(t.failed)),
        h("td", { class: "n", "data-field": "retrying" }, String(t.retrying)),
        h("td", { class: "n", "data-field": "latency" }, `${ms(t.latencyMs.p50)} / ${ms(t.latencyMs.p99)}`),
        h("td", {}, chart),
        actionsOf(row, api, refresh),
      );
      drawChart(chart, stats.series, "small");
      return tr;
    }),
  );
}
