/** What the dashboard reads from the gateway's /v1 API (the shapes it answers with). */
import type { ApiCall } from "../../playground/src/api-client.ts";

export interface Route {
  id: string;
  name: string;
  version: number;
  enabled: boolean;
  disabledReason: string | null;
  whileDisabled: "hold" | "drop";
  target: { url: string; headers?: Record<string, string>; method: string; format: string };
}

export interface Target {
  id: string;
  url: string;
  routes: string[];
  pausedUntil: string | null;
  breaker: { state: "closed" | "open" | "half-open"; failures: number; openUntil: string | null };
  lanes: { inFlight: number; waiting: number } | null;
}

export interface Attempt {
  n: number;
  at: string;
  statusCode: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  durationMs: number;
  responseExcerpt: string;
}

export interface Delivery {
  id: string;
  routeId: string;
  routeVersion: number;
  eventId: string;
  eventType: string;
  status: "pending" | "retrying" | "succeeded" | "failed" | "held";
  createdAt: string;
  attemptCount: number;
  nextAttemptAt: string | null;
  error: { code: string; message: string } | null;
  contentType: string | null;
  body: string | null;
  eventIds?: string[];
  attempts?: Attempt[];
}

export interface Stats {
  totals: {
    in: number;
    delivered: number;
    failed: number;
    retrying: number;
    latencyMs: { p50: number | null; p99: number | null };
  };
  series: { at: string; in: number; delivered: number; failed: number; retried: number }[];
}

/** Held deliveries are counted up to this many per route (one list call). */
export const HELD_COUNT_LIMIT = 500;

export interface DeliveryFilter {
  routeId?: string;
  status?: string;
  since?: string;
  before?: string;
}

const query = (params: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => Boolean(e[1]))).toString();

export const dashboardApi = (call: ApiCall) => ({
  routes: () => call<{ routes: Route[] }>("GET", "/v1/routes").then((r) => r.routes),
  targets: () => call<{ targets: Target[] }>("GET", "/v1/targets").then((r) => r.targets),
  route: (id: string) => call<Route>("GET", `/v1/routes/${encodeURIComponent(id)}`),
  stats: (params: { routeId?: string; since: string; step: number }) =>
    call<Stats>("GET", `/v1/stats?${query({ ...params, step: String(params.step) })}`),
  deliveries: (f: DeliveryFilter, limit: number) =>
    call<{ deliveries: Delivery[] }>("GET", `/v1/deliveries?${query({ ...f, limit: String(limit) })}`).then(
      (r) => r.deliveries,
    ),
  delivery: (id: string) => call<Delivery>("GET", `/v1/deliveries/${encodeURIComponent(id)}`),
  retry: (id: string) => call<Delivery>("POST", `/v1/deliveries/${encodeURIComponent(id)}/retry`),
  redrive: (routeId: string, since: string) =>
    call<{ redriven: number; scanned: number; notSent: unknown[] }>(
      "POST",
      `/v1/routes/${encodeURIComponent(routeId)}/redrive`,
      { since },
    ),
  resume: (targetId: string) => call<Target>("POST", `/v1/targets/${encodeURIComponent(targetId)}/resume`),
  setEnabled: (routeId: string, enabled: boolean) =>
    call<Route>("PATCH", `/v1/routes/${encodeURIComponent(routeId)}`, { enabled }),
  dropHeld: (routeId: string) =>
    call<{ dropped: number }>("POST", `/v1/routes/${encodeURIComponent(routeId)}/held/drop`),
});
export type DashboardApi = ReturnType<typeof dashboardApi>;

/** GET /readyz (no token: it is outside /v1). */
export async function readiness(): Promise<{ ok: boolean; failing: string[] }> {
  try {
    const response = await fetch("/readyz", { credentials: "omit", cache: "no-store" });
    const body = (await response.json()) as { checks?: Record<string, boolean> };
    const failing = Object.entries(body.checks ?? {})
      .filter(([, ok]) => !ok)
      .map(([name]) => name);
    return { ok: response.ok, failing };
  } catch {
    return { ok: false, failing: ["gateway unreachable"] };
  }
}
