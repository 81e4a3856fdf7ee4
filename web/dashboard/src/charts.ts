/** uPlot charts of GET /v1/stats series: a small one per route and the over-time one. */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Stats } from "./api.ts";

const LINES = [
  { key: "in", label: "In", stroke: "#2563eb" },
  { key: "delivered", label: "Delivered", stroke: "#16a34a" },
  { key: "failed", label: "Failed", stroke: "#dc2626" },
  { key: "retried", label: "Retried", stroke: "#d97706" },
] as const;

function dataOf(series: Stats["series"]): uPlot.AlignedData {
  return [series.map((p) => Date.parse(p.at) / 1000), ...LINES.map((line) => series.map((p) => p[line.key]))];
}

/** Draws into `el`, replacing what was there (the charts are redrawn on each refresh). */
export function drawChart(el: HTMLElement, series: Stats["series"], size: "small" | "large"): void {
  const small = size === "small";
  const width = small ? 180 : Math.max(480, el.clientWidth || 900);
  const opts: uPlot.Options = {
    width,
    height: small ? 40 : 260,
    legend: { show: !small },
    cursor: { show: !small },
    scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    axes: small ? [{ show: false }, { show: false }] : [{}, { size: 40 }],
    series: [
      {},
      ...LINES.map((l) => ({
        label: l.label,
        stroke: l.stroke,
        width: small ? 1 : 2,
        points: { show: false },
      })),
    ],
  };
  el.replaceChildren();
  new uPlot(opts, dataOf(series), el);
}
