import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { DeliveryOutSchema, DeliveryStatusSchema } from "../delivery-log/index.ts";
import { HookgateError } from "../errors.ts";
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
        const n = await log.requeue(id);
        if (n === -1) throw new HookgateError("HG_ERR_NOT_FOUND", `delivery ${id} does not exist`);
        if (n === 0) throw new HookgateError("HG_ERR_CONFLICT", `delivery ${id} is still in progress`);
        const d = await log.get(id);
        if (!d) throw new HookgateError("HG_ERR_NOT_FOUND", `delivery ${id} does not exist`);
        const route = await deps.store.get(d.routeId);
        await deps.scheduler.redispatch(d, n, route?.ordering === "fifo");
        return reply.code(202).send(d);
      },
    });

    app.post("/routes/:id/redrive", {
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
          throw new HookgateError("HG_ERR_VALIDATION", "until is before since", { field: "until" });
        }
        let redriven = 0;
        let scanned = 0;
        for await (const ids of log.idsOfRoute(route.id, sinceMs, untilMs)) {
          scanned += ids.length;
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
        return reply.code(202).send({ redriven, scanned });
      },
    });
  };
