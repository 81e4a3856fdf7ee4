/**
 * One delivery: its attempts (status, error, the receiver's answer excerpt), the request they
 * sent (the route's method, URL and headers as GET /v1/routes shows them: credentials redacted;
 * the signature headers are made anew for each attempt), the route version it was made with, and
 * its event. Retry where the API allows it (a finished delivery).
 */
import { byId, h, replaceChildren } from "../../playground/src/dom.ts";
import { act } from "./actions.ts";
import type { DashboardApi, Delivery, Route } from "./api.ts";
import { time } from "./format.ts";

export async function showDelivery(api: DashboardApi, id: string, after: () => void): Promise<void> {
  const d = await api.delivery(id);
  const route = await api.route(d.routeId).catch(() => null);
  byId("delivery-id").textContent = d.id;
  replaceChildren(byId("delivery-body"), ...view(api, d, route, after));
  byId("delivery").hidden = false;
}

function view(api: DashboardApi, d: Delivery, route: Route | null, after: () => void): HTMLElement[] {
  const retryable = d.status === "failed" || d.status === "succeeded";
  const retry = h(
    "button",
    { type: "button", "data-action": "retry", ...(retryable ? {} : { disabled: "" }) },
    "Retry",
  );
  retry.addEventListener("click", () => {
    void act(`Send delivery ${d.id} again, with the route's full retry schedule?`, async () => {
      const again = await api.retry(d.id);
      return `Delivery ${d.id} queued again (${again.status})`;
    }).then((ran) => ran && after());
  });
  const version = route
    ? `version ${d.routeVersion}${route.version === d.routeVersion ? " (current)" : ` (route is now at version ${route.version})`}`
    : `version ${d.routeVersion} (route deleted)`;
  const headers = Object.entries(route?.target.headers ?? {});
  return [
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Status"),
      h("dd", { "data-field": "status", class: `status ${d.status}` }, d.status),
      h("dt", {}, "Route"),
      h("dd", {}, `${route?.name ?? d.routeId} `, h("code", {}, d.routeId), `, ${version}`),
      h("dt", {}, "Event"),
      h(
        "dd",
        { "data-field": "event" },
        `${d.eventType} `,
        h("code", {}, d.eventId),
        d.eventIds ? ` (batch of ${d.eventIds.length})` : "",
      ),
      h("dt", {}, "Created"),
      h("dd", {}, time(d.createdAt)),
      d.nextAttemptAt && h("dt", {}, "Next attempt"),
      d.nextAttemptAt && h("dd", {}, time(d.nextAttemptAt)),
      d.error && h("dt", {}, "Error"),
      d.error && h("dd", { "data-field": "error" }, `${d.error.code}: ${d.error.message}`),
    ),
    h(
      "p",
      {},
      retry,
      retryable ? "" : h("small", { class: "muted" }, " (only a finished delivery can be sent again)"),
    ),
    h("h3", {}, "Request"),
    h(
      "pre",
      { "data-field": "request" },
      [
        `${route?.target.method ?? "POST"} ${route?.target.url ?? "?"}`,
        `content-type: ${d.contentType ?? "—"}`,
        ...headers.map(([k, v]) => `${k}: ${v}`),
        "webhook-id, webhook-timestamp, webhook-signature: signed for each attempt",
        "",
        d.body ?? "(no body: the walk made none)",
      ].join("\n"),
    ),
    h("h3", {}, `Attempts (${d.attempts?.length ?? 0})`),
    h(
      "ol",
      { id: "attempts" },
      ...(d.attempts ?? []).map((a) =>
        h(
          "li",
          { "data-attempt": String(a.n) },
          h(
            "p",
            {},
            h("strong", {}, a.statusCode === null ? (a.errorCode ?? "no answer") : `HTTP ${a.statusCode}`),
            ` at ${time(a.at)}, ${Math.round(a.durationMs)} ms`,
            a.errorMessage ? ` — ${a.errorMessage}` : "",
          ),
          h("pre", { class: "excerpt", "data-field": "response" }, a.responseExcerpt || "(empty answer)"),
        ),
      ),
    ),
  ];
}
