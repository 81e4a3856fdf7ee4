import { isUtf8 } from "node:buffer";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { isRequestBuildError, type OutgoingRequest, sendRequest } from "../delivery/index.ts";
import { HookgateError } from "../errors.ts";
import {
  applyRoutePatch,
  buildRoute,
  type ChangedBy,
  checkFunction,
  checkRouteContent,
  compileRoute,
  type Route,
  RouteInSchema,
  RoutePatchSchema,
  rotateRouteSecret,
  routeStateOf,
} from "../routing/index.ts";
import { sampleEvent } from "../sources/index.ts";
import { requestOf, walkEvent } from "../walk/index.ts";
import type { ApiDeps } from "./deps.ts";
import { RouteOutSchema, toRouteOut } from "./route-out.ts";
import { ErrorBodySchema } from "./schemas.ts";
import { changedByOf } from "./versions-api.ts";

const IdParams = z.object({ id: z.string().min(1).max(100) });
const FunctionParams = IdParams.extend({ kind: z.enum(["filter", "map"]) });
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema };

const SecretRotateInSchema = z
  .strictObject({
    secret: z
      .string()
      .min(16)
      .max(512)
      .optional()
      .describe("The new secret (whsec_… for standard-webhooks); generated when absent"),
    graceS: z
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(86_400)
      .describe(
        "Seconds the old secret keeps signing beside the new one (standard-webhooks; the other schemes carry one signature, so theirs switches at once)",
      ),
  })
  .meta({ id: "SecretRotateIn" });

export const routesApi =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const { store } = deps;

    // Function sources are uploaded raw, the way they sit in a .js file.
    // Read as bytes: a body that is not UTF-8 is refused rather than stored with U+FFFD in it.
    app.addContentTypeParser(
      ["application/javascript", "text/javascript", "text/plain"],
      { parseAs: "buffer" },
      (_req, body, done) => {
        const bytes = body as Buffer;
        if (!isUtf8(bytes)) {
          done(new HookgateError("HG_ERR_VALIDATION", "The function source is not valid UTF-8"), undefined);
          return;
        }
        done(null, bytes.toString("utf8"));
      },
    );

    app.post("/routes", {
      config: { scope: "routes:write", audit: "route" },
      schema: {
        summary: "Create a route",
        description:
          "Appends a route to the walk order. A whsec_ signing secret is generated when none is given; this answer is the only one that shows it.",
        tags: ["routes"],
        body: RouteInSchema,
        response: { 201: RouteOutSchema, ...errors },
      },
      handler: async (request, reply) => {
        const route = buildRoute(request.body);
        checkRouteContent(route, deps);
        await store.create(route, changedByOf(request));
        return reply.code(201).send(toRouteOut(route, true));
      },
    });

    app.get("/routes", {
      config: { scope: "routes:read" },
      schema: {
        summary: "List routes in walk order",
        tags: ["routes"],
        response: { 200: z.object({ routes: z.array(RouteOutSchema) }), ...errors },
      },
      handler: async () => ({ routes: (await store.list()).map((r) => toRouteOut(r)) }),
    });

    app.put("/routes/order", {
      config: { scope: "routes:write", audit: "routes-order" },
      schema: {
        summary: "Set the walk order",
        description: "`ids` must name every route exactly once (409 otherwise, with the current order).",
        tags: ["routes"],
        body: z.strictObject({ ids: z.array(z.string().min(1)).max(100_000) }),
        response: { 200: z.object({ routes: z.array(RouteOutSchema) }), ...errors },
      },
      handler: async (request) => {
        await store.setOrder(request.body.ids);
        return { routes: (await store.list()).map((r) => toRouteOut(r)) };
      },
    });

    app.get("/routes/:id", {
      config: { scope: "routes:read" },
      schema: {
        summary: "Get a route",
        tags: ["routes"],
        params: IdParams,
        response: { 200: RouteOutSchema, ...errors },
      },
      handler: async (request) => toRouteOut(await store.require(request.params.id)),
    });

    app.patch("/routes/:id", {
      config: { scope: "routes:write", audit: "route" },
      schema: {
        summary: "Change a route",
        description:
          "Top-level fields replace; `target` and `retry` merge one level deep. Bumps `version` when the route changes; a patch that changes nothing answers the route as it is.",
        tags: ["routes"],
        params: IdParams,
        body: RoutePatchSchema,
        response: { 200: RouteOutSchema, ...errors },
      },
      handler: async (request) => {
        const current = await store.require(request.params.id);
        const next = applyRoutePatch(current, request.body);
        if (next === current) return toRouteOut(current);
        checkRouteContent(next, deps);
        await store.replace(next, changedByOf(request));
        deps.ownEvents?.routeSwitched(current, next, changedByOf(request));
        // Turned on: what it held while off goes now, in order (stored first, so no new
        // delivery is held from here on).
        if (routeStateOf(next) === "on" && routeStateOf(current) !== "on")
          await deps.scheduler.releaseHeld(next);
        const secretChanged = next.target.signing.secret !== current.target.signing.secret;
        return toRouteOut(next, secretChanged, { credentials: false });
      },
    });

    app.delete("/routes/:id", {
      config: { scope: "routes:write", audit: "route" },
      schema: {
        summary: "Delete a route",
        tags: ["routes"],
        params: IdParams,
        response: { 204: z.null(), ...errors },
      },
      handler: async (request, reply) => {
        const { id } = request.params;
        if (!(await store.delete(id)))
          throw new HookgateError("HG_ERR_NOT_FOUND", `route ${id} does not exist`);
        await deps.log.dropHeld(id, { code: "HG_ERR_ROUTE_DELETED", message: `route ${id} was deleted` });
        // Requests already on their way are answered before this one is: after it, nothing goes out.
        await store.untilSendsDone(id);
        return reply.code(204).send(null);
      },
    });

    app.post("/routes/:id/held/drop", {
      config: { scope: "deliveries:write", audit: "held-drop" },
      schema: {
        summary: "Drop the route's held deliveries",
        description:
          "Ends every delivery the route holds (it is turned off) as failed with HG_ERR_HELD_DROPPED, instead of sending them when it is turned on again.",
        tags: ["routes"],
        params: IdParams,
        response: { 200: z.object({ dropped: z.int() }).meta({ id: "HeldDropped" }), ...errors },
      },
      handler: async (request) => {
        const route = await store.require(request.params.id);
        const dropped = await deps.log.dropHeld(route.id, {
          code: "HG_ERR_HELD_DROPPED",
          message: `dropped by request while route ${route.id} was turned off`,
        });
        return { dropped };
      },
    });

    app.post("/routes/:id/secret/rotate", {
      config: { scope: "routes:write", audit: "route" },
      schema: {
        summary: "Rotate the route's signing secret",
        description:
          "Sets a new signing secret (the given one, or one generated for the scheme). Under standard-webhooks the old secret keeps signing beside the new one for `graceS` seconds (default 24 h), so receivers can switch without losing a delivery; `secretRotation` says until when. This answer is the only one that shows the new secret. 400 when the route is not signed.",
        tags: ["routes"],
        params: IdParams,
        // No body at all is fastify's null: every default.
        body: SecretRotateInSchema.nullish(),
        response: { 200: RouteOutSchema, ...errors },
      },
      handler: async (request) => {
        const now = new Date();
        const rotation = request.body ?? SecretRotateInSchema.parse({});
        const rotated = await store.update(
          request.params.id,
          (route) => rotateRouteSecret(route, rotation, now),
          5,
          changedByOf(request),
        );
        if (!rotated) throw new HookgateError("HG_ERR_INTERNAL", "rotation stored nothing");
        return toRouteOut(rotated, true, { credentials: false, now: now.getTime() });
      },
    });

    app.put("/routes/:id/:kind", {
      config: { scope: "routes:write", audit: "route" },
      schema: {
        summary: "Upload the route's filter or map function",
        description:
          "The body is the raw JavaScript (Content-Type: application/javascript). A syntax error is a 400 with `line` and `column` in `details`.",
        tags: ["routes"],
        params: FunctionParams,
        body: z
          .string()
          .min(1)
          .max(256 * 1024),
        response: { 200: RouteOutSchema, ...errors },
      },
      handler: async (request) => {
        const { id, kind } = request.params;
        checkFunction(kind, request.body);
        const by = changedByOf(request);
        return toRouteOut(await update(id, (r) => applyRoutePatch(r, { [kind]: request.body }), by));
      },
    });

    app.delete("/routes/:id/:kind", {
      config: { scope: "routes:write", audit: "route" },
      schema: {
        summary: "Remove the route's filter or map function",
        tags: ["routes"],
        params: FunctionParams,
        response: { 200: RouteOutSchema, ...errors },
      },
      handler: async (request) => {
        const { id, kind } = request.params;
        const by = changedByOf(request);
        return toRouteOut(await update(id, (r) => applyRoutePatch(r, { [kind]: null }), by));
      },
    });

    app.post("/routes/:id/test", {
      config: { scope: "routes:write" },
      schema: {
        summary: "Send a sample event to the route's target now",
        description:
          "Runs the route's map and template on a sample EmailEngine messageNew event (the filter is skipped), signs and sends it at once, outside the queue. Nothing is recorded.",
        tags: ["routes"],
        params: IdParams,
        response: {
          200: z.object({
            statusCode: z.int().nullable(),
            durationMs: z.number(),
            error: z.object({ code: z.string(), message: z.string() }).optional(),
            responseExcerpt: z.string(),
          }),
          ...errors,
        },
      },
      handler: async (request) => {
        const route = await store.require(request.params.id);
        const event = sampleEvent();
        const compiled = compileRoute({ ...route, enabled: true, events: ["*"], filter: null, stop: false });
        const [walk] = await walkEvent([compiled], event, deps.sandbox);
        let req: OutgoingRequest | null = null;
        try {
          req = walk ? requestOf(walk, event) : null;
        } catch (err) {
          // A ${ENV_NAME} that is not set, or a form body that is not an object: as delivery would fail.
          if (!isRequestBuildError(err)) throw err;
          const error = { code: err.code, message: err.message };
          return { statusCode: null, durationMs: 0, error, responseExcerpt: "" };
        }
        if (!walk || !req) {
          const error = walk?.error ?? { code: "HG_ERR_INTERNAL", message: "the route produced no body" };
          return { statusCode: null, durationMs: 0, error, responseExcerpt: "" };
        }
        const result = await sendRequest(req, {
          dispatcher: deps.dispatcher,
          timeoutMs: route.target.timeoutMs,
          excerptBytes: deps.config.HOOKGATE_RESPONSE_EXCERPT_BYTES,
        });
        return {
          statusCode: result.statusCode,
          durationMs: result.durationMs,
          responseExcerpt: result.responseExcerpt,
          ...(result.errorCode
            ? { error: { code: result.errorCode, message: result.errorMessage ?? "" } }
            : {}),
        };
      },
    });

    async function update(id: string, change: (route: Route) => Route, by: ChangedBy): Promise<Route> {
      const current = await store.require(id);
      const next = change(current);
      if (next === current) return current;
      await store.replace(next, by);
      return next;
    }
  };
