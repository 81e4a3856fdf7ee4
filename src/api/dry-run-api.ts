import { createHash } from "node:crypto";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { isRequestBuildError, redactRequest } from "../delivery/index.ts";
import { HookgateError } from "../errors.ts";
import { EventInSchema, type HookgateEvent } from "../events/index.ts";
import {
  buildRoute,
  type CompiledRoute,
  checkRouteContent,
  compileRoute,
  type Route,
  RouteInSchema,
} from "../routing/index.ts";
import type { StepResult } from "../sandbox/index.ts";
import { eventsOfSample, normalizeEvent } from "../sources/index.ts";
import { type RouteWalk, requestOf, walkEvent } from "../walk/index.ts";
import type { ApiDeps } from "./deps.ts";
import { ErrorBodySchema } from "./schemas.ts";

const DryRunInSchema = z
  .strictObject({
    event: EventInSchema.optional(),
    sample: z
      .string()
      .max(200)
      .optional()
      .describe(
        "A sample body by its `file` from GET /v1/sources/samples, with or without `.json`: emailengine/messageNew",
      ),
    routeId: z.string().min(1).optional(),
    version: z
      .int()
      .min(1)
      .optional()
      .describe("With routeId: walk that kept version of the route (GET /v1/routes/{id}/versions)"),
    route: RouteInSchema.optional(),
  })
  .refine((b) => !(b.routeId && b.route), { message: "give routeId or route, not both", path: ["route"] })
  .refine((b) => b.version === undefined || b.routeId, {
    message: "version needs routeId",
    path: ["version"],
  })
  .refine((b) => Boolean(b.event) !== Boolean(b.sample), {
    message: "give an event or a sample, one of them",
    path: ["event"],
  })
  .meta({ id: "DryRunIn" });

const StepOut = z.object({
  logs: z.array(z.string()),
  durationMs: z.number(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

const DryRunResultSchema = z.object({
  routeId: z.string(),
  routeName: z.string(),
  matched: z
    .boolean()
    .describe(
      "The route takes the event: its events, sources and filter say yes. True even when its map or template then fails (see `fired` and `error`)",
    ),
  fired: z
    .boolean()
    .describe(
      "The route would send the event: it matched, and its map and template succeeded (`request` shows it)",
    ),
  skipped: z.string().nullable().describe("Why the route was not evaluated (disabled, type, stop)"),
  filter: StepOut.extend({ result: z.boolean().nullable() }).nullable(),
  map: StepOut.extend({ output: z.unknown() }).nullable(),
  request: z
    .object({
      method: z.string(),
      url: z.string(),
      headers: z.record(z.string(), z.string()),
      body: z.string(),
    })
    .nullable(),
  truncations: z.array(z.object({ path: z.string(), limit: z.number(), originalLength: z.number() })),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

/** A sample named as the CLI and the samples list name it, `kind/name` or `kind/name.json`. */
export function sampleFile(name: string): string {
  return name.endsWith(".json") ? name : `${name}.json`;
}

function step(s: StepResult | null) {
  if (!s) return null;
  return { logs: s.logs, durationMs: s.durationMs, ...(s.error ? { error: s.error } : {}) };
}

/**
 * The request as an answer may show it: credentials [redacted] and ${ENV_NAME} references
 * unresolved, as in the route API; or why it cannot be built (the error delivery would record).
 */
function shownRequestOf(walk: RouteWalk, event: HookgateEvent) {
  try {
    const request = requestOf(walk, event);
    return { request: request && redactRequest(request, walk.route.route.target), error: null };
  } catch (err) {
    if (!isRequestBuildError(err)) throw err;
    return { request: null, error: { code: err.code, message: err.message } };
  }
}

/** The saved route, or the kept version of it asked for. */
async function routeAt(deps: ApiDeps, id: string, version: number | undefined): Promise<Route> {
  const current = await deps.store.require(id);
  if (version === undefined || version === current.version) return current;
  const kept = (await deps.store.versions(id)).find((v) => v.version === version);
  if (!kept) throw new HookgateError("HG_ERR_NOT_FOUND", `route ${id} has no version ${version} kept`);
  return kept.route;
}

export const dryRunApi =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.post("/dry-run", {
      config: { scope: "routes:read" },
      schema: {
        summary: "Walk an event through the routes without sending anything",
        description:
          "Walks an `event` (or a `sample` body of one of the email systems, as its source would turn it into an event) through every saved route (or one saved route by `routeId`, or an unsaved `route`) exactly as delivery would, and shows the exact request each would send, signature included. Nothing is queued or sent.",
        tags: ["dry-run"],
        body: DryRunInSchema,
        response: {
          200: z.object({ event: z.unknown(), results: z.array(DryRunResultSchema) }),
          400: ErrorBodySchema,
          401: ErrorBodySchema,
          404: ErrorBodySchema,
        },
      },
      handler: async (request) => {
        const { event: input, sample, routeId, version, route: unsaved } = request.body;
        const file = sampleFile(sample ?? "");
        const event = input ? normalizeEvent(input) : (await eventsOfSample(file))?.[0];
        if (!event)
          throw new HookgateError("HG_ERR_NOT_FOUND", `no sample ${file}; see GET /v1/sources/samples`);
        let routes: readonly CompiledRoute[];
        if (unsaved) {
          const route = buildRoute(unsaved);
          checkRouteContent(route, deps);
          // Cache compiled code by content: the same draft run twice reuses its isolate.
          const digest = createHash("sha256").update(JSON.stringify(unsaved)).digest("hex").slice(0, 16);
          routes = [{ ...compileRoute(route), key: `draft-${digest}@1` }];
        } else if (routeId) {
          routes = [compileRoute(await routeAt(deps, routeId, version))];
        } else {
          routes = await deps.routes.current();
        }
        const walks = await walkEvent(routes, event, deps.sandbox, {
          includeDisabled: Boolean(routeId || unsaved),
          reportSkipped: true,
          timeEachStep: true,
        });
        const results = walks.map((w) => {
          const { route } = w.route;
          const { request, error } = shownRequestOf(w, event);
          const filter = step(w.filter);
          const map = step(w.map);
          return {
            routeId: route.id,
            routeName: route.name,
            matched:
              w.fired ||
              (w.skipped === null && (w.filter === null || (w.filter.ok && w.filter.value === true))),
            fired: w.fired,
            skipped: w.skipped,
            filter: filter && { ...filter, result: w.filter?.ok ? (w.filter.value as boolean) : null },
            map: map && { ...map, output: w.map?.ok ? w.map.value : null },
            request,
            truncations: w.rendered?.truncations ?? [],
            ...(w.error ? { error: w.error } : error ? { error } : {}),
          };
        });
        return { event, results };
      },
    });
  };
