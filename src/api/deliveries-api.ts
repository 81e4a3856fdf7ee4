import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { type Delivery, DeliveryOutSchema, DeliveryStatusSchema } from "../delivery-log/index.ts";
import { HookgateError } from "../errors.ts";
import { needsRewalk, rewalk } from "../walk/index.ts";
import type { ApiDeps } from "./deps.ts";
import { ErrorBodySchema } from "./schemas.ts";

const IdParams = z.object({ id: z.string().min(1).max(100) });
const RedriveBody = z
  .strictObject({
    since: z.iso.datetime({ offset: true }).describe("Failed deliveries created at or after this time"),
    until: z.iso.datetime({ offset: true }).optional().describe("…and at or before this time (default: now)"),
  })
  .meta({ id: "RedriveRequest", example: { since: "2026-11-23T00:00:00Z" } });
const RedriveAnswer = z
  .object({
    redriven: z.int().describe("Failed deliveries queued again"),
    scanned: z.int().describe("Deliveries of the route looked at in the time range"),
    notSent: z
      .array(z.object({ deliveryId: z.string(), code: z.string(), message: z.string() }))
      .describe(
        "Failed deliveries whose walk made no body and that could not be walked again (the first 100): their event is gone, or the route's current version still fails or no longer takes it",
      ),
  })
  .meta({ id: "RedriveResult" });
const ListQuery = z.strictObject({
  routeId: z.string().min(1).optional(),
  status: DeliveryStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.iso.datetime({ offset: true }).optional().describe("Only deliveries created before this time"),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("Only deliveries created at or after this time"),
});

export const deliveriesApi =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const { log } = deps;

    app.get("/deliveries", {
      config: { scope: "deliveries:read" },
      schema: {
        summary: "List deliveries, newest first",
        description: "Without body and attempts; page with `before` = the last `createdAt` seen.",
        tags: ["deliveries"],
        querystring: ListQuery,
        response: { 200: z.object({ deliveries: z.array(DeliveryOutSchema) }), 400: ErrorBodySchema },
      },
      handler: async (request) => {
        const q = request.query;
        const deliveries = await log.list({
          limit: q.limit,
          ...(q.routeId ? { routeId: q.routeId } : {}),
          ...(q.status ? { status: q.status } : {}),
          ...(q.before ? { beforeMs: Date.parse(q.before) } : {}),
          ...(q.since ? { sinceMs: Date.parse(q.since) } : {}),
        });
        return { deliveries: deliveries.map(({ body: _body, ...d }) => ({ ...d, body: null })) };
      },
    });

    app.get("/deliveries/:id", {
      config: { scope: "deliveries:read" },
      schema: {
        summary: "Get a delivery with every attempt",
        tags: ["deliveries"],
        params: IdParams,
        response: { 200: DeliveryOutSchema, 404: ErrorBodySchema },
      },
      handler: async (request) => {
        const d = await log.get(request.params.id);
        if (!d) throw new HookgateError("HG_ERR_NOT_FOUND", `delivery ${request.params.id} does not exist`);
        return d;
      },
    });

    app.post("/deliveries/:id/retry", {
      config: { scope: "deliveries:write", audit: "delivery" },
      schema: {
        summary: "Send a finished delivery again",
        description:
          "Queues a new run of the delivery with the route's full retry schedule. 409 while it is still pending or retrying.",
        tags: ["deliveries"],
        params: IdParams,
        response: { 202: DeliveryOutSchema, 404: ErrorBodySchema, 409: ErrorBodySchema },
      },
      handler: async (request, reply) => {
        const { id } = request.params;
        const found = await log.get(id, false);
        if (!found) throw new HookgateError("HG_ERR_NOT_FOUND", `delivery ${id} does not exist`);
        if (found.status === "held") {
          throw new HookgateError(
            "HG_ERR_CONFLICT",
            `delivery ${id} is held while its route is turned off: turn the route on to send it`,
          );
        }
        if (found.status === "failed" || found.status === "succeeded") {
          const problem = await walkAgainIfNeeded(found);
          if (problem) throw problem;
        }
        const n = await log.requeue(id);
        if (n === -1) throw new HookgateError("HG_ERR_NOT_FOUND", `delivery ${id} does not exist`);
        if (n === 0) throw new HookgateError("HG_ERR_CONFLICT", `delivery ${id} is still in progress`);
        if (n === -2) throw new HookgateError("HG_ERR_CONFLICT", `delivery ${id} is held by its route`);
        const d = await log.get(id);
        if (!d) throw new HookgateError("HG_ERR_NOT_FOUND", `delivery ${id} does not exist`);
        const route = await deps.store.get(d.routeId);
        await deps.scheduler.redispatch(d, n, route?.ordering === "fifo");
        return reply.code(202).send(d);
      },
    });

    /**
     * A delivery whose walk made no body is walked again with its route's current version before
     * it is sent; answers why it cannot be (the record keeps the new walk's error), or null.
     */
    async function walkAgainIfNeeded(d: Delivery): Promise<HookgateError | null> {
      if (!needsRewalk(d)) return null;
      const result = await rewalk(d, await deps.routes.byId(d.routeId), deps.sandbox);
      if (result.ok) {
        await log.rewalked(d.id, result);
        return null;
      }
      if (result.code === "HG_ERR_EVENT_GONE") return new HookgateError("HG_ERR_EVENT_GONE", result.message);
      await log.rewalked(d.id, result);
      return new HookgateError("HG_ERR_CONFLICT", `delivery ${d.id} cannot be sent: ${result.message}`, [
        { path: "walk", message: `${result.code}: ${result.message}` },
      ]);
    }

    app.post("/routes/:id/redrive", {
      config: { scope: "deliveries:write", audit: "redrive" },
      schema: {
        summary: "Send again every failed delivery of a route since a time",
        description:
          "Each failed delivery of the route created in [since, until] gets a new run with the route's full retry schedule (a FIFO route's go through its lane, in ingest order). Deliveries past retention are gone and not counted.",
        tags: ["deliveries"],
        params: IdParams,
        body: RedriveBody,
        response: { 202: RedriveAnswer, 400: ErrorBodySchema, 404: ErrorBodySchema },
      },
      handler: async (request, reply) => {
        const route = await deps.store.get(request.params.id);
        if (!route) throw new HookgateError("HG_ERR_NOT_FOUND", `route ${request.params.id} does not exist`);
        const sinceMs = Date.parse(request.body.since);
        const untilMs = request.body.until ? Date.parse(request.body.until) : Date.now();
        if (untilMs < sinceMs) {
          throw new HookgateError("HG_ERR_VALIDATION", "until: is before since", [
            { path: "until", message: "is before since" },
          ]);
        }
        let redriven = 0;
        let scanned = 0;
        const notSent: { deliveryId: string; code: string; message: string }[] = [];
        for await (const page of log.idsOfRoute(route.id, sinceMs, untilMs)) {
          scanned += page.length;
          // Failed walks are walked again first; those that still make no body are not sent.
          const ids: string[] = [];
          for (const [i, d] of (await log.getMany(page)).entries()) {
            const problem = d?.status === "failed" ? await walkAgainIfNeeded(d) : null;
            if (problem && d)
              notSent.push({ deliveryId: d.id, code: problem.code, message: problem.message });
            else ids.push(page[i] as string);
          }
          const counts = await log.requeueFailed(ids);
          // One read for the page's requeued records, not one per delivery.
          const requeued = ids.flatMap((id, i) => ((counts[i] ?? 0) > 0 ? [{ id, n: counts[i] ?? 0 }] : []));
          const records = await log.getMany(requeued.map((r) => r.id));
          for (const [i, d] of records.entries()) {
            const r = requeued[i];
            if (!d || !r) continue;
            await deps.scheduler.redispatch(d, r.n, route.ordering === "fifo");
            redriven++;
          }
        }
        return reply.code(202).send({ redriven, scanned, notSent: notSent.slice(0, 100) });
      },
    });
  };
