import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { DeliveryOutSchema, DeliveryStatusSchema } from "../delivery-log/index.ts";
import { HookgateError } from "../errors.ts";
import type { ApiDeps } from "./deps.ts";
import { ErrorBodySchema } from "./schemas.ts";

const IdParams = z.object({ id: z.string().min(1).max(100) });
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
        await deps.queue.enqueue([{ deliveryId: id, routeId: d.routeId, manualRetry: n }]);
        return reply.code(202).send(d);
      },
    });
  };
