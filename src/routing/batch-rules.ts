import type { Route } from "./route-schema.ts";

/**
 * Why a route cannot batch, or null. A batch is `{"events": [body, …]}`, so each body must be
 * JSON; chat messages (Slack, Discord) are one per event, and a form body is not JSON.
 */
export function batchProblem(
  route: Pick<Route, "template" | "target"> & { batch?: Route["batch"] },
): string | null {
  if (!route.batch) return null;
  const kind = route.template?.kind;
  if (kind === "slack" || kind === "discord")
    return `a ${kind} message is sent one per event and cannot be batched`;
  if (kind === "text") return "a batch is a JSON array of bodies, which a text template cannot give";
  if (route.target.format === "form") return "a batch is a JSON body and cannot be sent as a form";
  return null;
}
