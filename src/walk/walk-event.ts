import { buildRequest, type OutgoingRequest } from "../delivery/index.ts";
import type { HookgateEvent } from "../events/index.ts";
import { deliveryIdFor } from "../ids.ts";
import { aboutRoute } from "../own-events/index.ts";
import { batchBody } from "../queue/index.ts";
import { type CompiledRoute, candidateRoutes, routeStateOf } from "../routing/index.ts";
import type { RouteRun, Sandbox, StepResult } from "../sandbox/index.ts";
import { type RenderedBody, renderContained } from "../templates/index.ts";

/*
 * The walk of one event over the ordered routes: glob match → filter → map → template.
 * Shared by the worker and the dry-run, so the dry-run shows exactly what delivery would do.
 * Routes are evaluated concurrently (functions are pure, and a slow one must not hold up the
 * rest), then `stop` is applied in walk order: a route that fired with stop=true ends the walk.
 */

export interface WalkError {
  code: string;
  message: string;
}

export interface RouteWalk {
  route: CompiledRoute;
  /** The route took the event: enabled, type matched, filter passed, map and template succeeded. */
  fired: boolean;
  /** Why the route was not evaluated, when it was not. */
  skipped:
    | "disabled"
    | "event type not matched"
    | "source not matched"
    | "about this route"
    | `stopped by ${string}`
    | null;
  filter: StepResult | null;
  map: StepResult | null;
  rendered: RenderedBody | null;
  error: WalkError | null;
  /** Walked for a route that is turned off and holds: its delivery is kept, not sent. */
  held?: boolean;
}

export interface WalkOptions {
  /** The dry-run of one named route walks it even when disabled. */
  includeDisabled?: boolean;
  /**
   * Walk every route given and return one result each, skipped ones with the reason (the
   * dry-run shows them). Otherwise only the routes whose type globs and sources take the event
   * are walked and returned, found through the route index instead of a scan of all routes.
   */
  reportSkipped?: boolean;
  /**
   * Walk the turned-off routes that hold their events too (marked `held`), as delivery does.
   * A held route takes no part in `stop`: while it is off, the routes after it see the event.
   */
  holdDisabled?: boolean;
  /**
   * Run a route's filter and map as two crossings, so each step's durationMs is its own host
   * measure (the dry-run shows them). Delivery runs both in one crossing, which is cheaper; its
   * step times are then one measure split by the isolate's millisecond clock.
   */
  timeEachStep?: boolean;
}

function stepError(step: StepResult | null, which: string): WalkError | null {
  if (!step || step.ok) return null;
  const code = step.error?.code ?? "HG_ERR_SANDBOX_THROW";
  return { code, message: `${which}: ${step.error?.message ?? "failed"}` };
}

async function runSteps(
  route: CompiledRoute,
  event: HookgateEvent,
  sandbox: Sandbox,
  timeEachStep: boolean,
): Promise<RouteRun> {
  const { filter, map } = route.route;
  if (!filter && !map) return { filter: null, map: null };
  const limits = route.route.limits ?? undefined;
  const fns = (key: string, f: string | null, m: string | null) => ({
    key,
    filter: f,
    map: m,
    ...(limits ? { limits } : {}),
  });
  if (!timeEachStep || !filter || !map) return sandbox.runRoute(fns(route.key, filter, map), event);
  // Each step compiled under a key of its own (a key names one compiled set of functions).
  const first = await sandbox.runRoute(fns(`${route.key}#filter`, filter, null), event);
  if (!first.filter?.ok || first.filter.value !== true) return { filter: first.filter, map: null };
  const second = await sandbox.runRoute(fns(`${route.key}#map`, null, map), event);
  return { filter: first.filter, map: second.map };
}

async function walkRoute(
  route: CompiledRoute,
  event: HookgateEvent,
  sandbox: Sandbox,
  timeEachStep = false,
): Promise<RouteWalk> {
  const base = { route, fired: false, filter: null, map: null, rendered: null, error: null };
  const run = await runSteps(route, event, sandbox, timeEachStep);
  const error = stepError(run.filter, "filter") ?? stepError(run.map, "map");
  if (error) return { ...base, skipped: null, ...run, error };
  if (run.filter && run.filter.value !== true) return { ...base, skipped: null, ...run };
  const payload = run.map ? run.map.value : event;
  try {
    const rendered = await renderContained(route.route.template, payload, route.key);
    return { ...base, skipped: null, ...run, fired: true, rendered };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return {
      ...base,
      skipped: null,
      ...run,
      error: { code: e.code ?? "HG_ERR_TEMPLATE_RENDER", message: `template: ${e.message ?? String(err)}` },
    };
  }
}

export async function walkEvent(
  routes: readonly CompiledRoute[],
  event: HookgateEvent,
  sandbox: Sandbox,
  options: WalkOptions = {},
): Promise<RouteWalk[]> {
  const walked = options.reportSkipped ? routes : candidateRoutes(routes, event);
  const walks = await Promise.all(
    walked.map((route): Promise<RouteWalk> | RouteWalk => {
      const skip = (skipped: RouteWalk["skipped"]): RouteWalk => ({
        route,
        fired: false,
        skipped,
        filter: null,
        map: null,
        rendered: null,
        error: null,
      });
      const held = !route.route.enabled && !options.includeDisabled;
      if (held && !(options.holdDisabled && routeStateOf(route.route) === "hold")) return skip("disabled");
      if (!route.matchesType(event.type)) return skip("event type not matched");
      if (!route.matchesSource(event)) return skip("source not matched");
      // Hookgate's news of this route's (or its target's) trouble: never fed back to it.
      if (aboutRoute(event, route.route)) return skip("about this route");
      const timeEachStep = options.timeEachStep === true;
      if (held) return walkRoute(route, event, sandbox, timeEachStep).then((w) => ({ ...w, held: true }));
      return walkRoute(route, event, sandbox, timeEachStep);
    }),
  );
  const stopAt = walks.findIndex((w) => w.fired && !w.held && w.route.route.stop);
  if (stopAt === -1) return walks;
  const by = walks[stopAt]?.route.route.id ?? "";
  return walks.map((w, i) =>
    i <= stopAt
      ? w
      : {
          route: w.route,
          fired: false,
          skipped: `stopped by ${by}`,
          filter: null,
          map: null,
          rendered: null,
          error: null,
        },
  );
}

/** The exact request a route that took the event would send now (signed with its delivery's id). */
export function requestOf(walk: RouteWalk, event: HookgateEvent): OutgoingRequest | null {
  if (!walk.rendered) return null;
  const { route } = walk.route;
  // A batching route sends this body inside {"events": [...]}, with others of its batch.
  return buildRequest(route, {
    messageId: deliveryIdFor(event.id, route.id),
    body: route.batch ? batchBody([walk.rendered]) : walk.rendered.body,
    contentType: walk.rendered.contentType,
  });
}
