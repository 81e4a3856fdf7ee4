import type { Delivery } from "../delivery-log/index.ts";
import type { HookgateEvent } from "../events/index.ts";
import { batchBody } from "../queue/index.ts";
import type { CompiledRoute } from "../routing/index.ts";
import type { Sandbox } from "../sandbox/index.ts";
import { walkEvent } from "./walk-event.ts";

/*
 * A delivery whose walk made no body (its filter, map or template failed) has nothing to send: a
 * retry or a redrive walks its event again through the route as it is now. The record keeps the
 * event for that (DeliveryLog, field `event`); without it the delivery cannot be sent at all.
 */

/** Whether a delivery's record has no body of its walk to send (its walk failed: an HG_ERR_ code). */
export function needsRewalk(d: Pick<Delivery, "event" | "body" | "eventIds" | "error">): boolean {
  return d.event !== undefined || (!d.body && !d.eventIds && Boolean(d.error?.code.startsWith("HG_ERR_")));
}

export type Rewalk =
  | { ok: true; body: string; contentType: string; routeVersion: number }
  | { ok: false; code: string; message: string };

export async function rewalk(
  d: Delivery,
  route: CompiledRoute | undefined,
  sandbox: Sandbox,
): Promise<Rewalk> {
  if (!route) return { ok: false, code: "HG_ERR_ROUTE_DELETED", message: `route ${d.routeId} was deleted` };
  if (d.event === undefined) {
    return {
      ok: false,
      code: "HG_ERR_EVENT_GONE",
      message: `delivery ${d.id} has no body and its event is no longer kept, so it cannot be walked again`,
    };
  }
  const event = JSON.parse(d.event) as HookgateEvent;
  const [walk] = await walkEvent([route], event, sandbox, { includeDisabled: true, reportSkipped: true });
  const version = route.route.version;
  if (walk?.error) {
    return {
      ok: false,
      code: walk.error.code,
      message: `walked again with version ${version}: ${walk.error.message}`,
    };
  }
  if (!walk?.rendered) {
    const why = walk?.skipped ?? "its filter did not pass";
    return {
      ok: false,
      code: "HG_ERR_ROUTE_DOES_NOT_TAKE",
      message: `route ${route.route.id} version ${version} no longer takes event ${event.id} (${why})`,
    };
  }
  const { rendered } = walk;
  return {
    ok: true,
    body: route.route.batch ? batchBody([rendered]) : rendered.body,
    contentType: rendered.contentType,
    routeVersion: version,
  };
}
