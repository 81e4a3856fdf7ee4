import type { FastifyInstance } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Metrics } from "../metrics/index.ts";
import { requireKey } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { ErrorBodySchema } from "./schemas.ts";

/** GET /metrics for Prometheus, behind a key with metrics:read (`authorization: Bearer` in the scrape config). */
export const metricsApi =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    requireKey(app, deps);
    app.get("/metrics", {
      config: { scope: "metrics:read" },
      schema: {
        summary: "Prometheus metrics of this process",
        description:
          "Text exposition format. Counters and histograms are this process's; queue depths, the events stream and pending walks are read from Redis at scrape time and are the same in every process. Needs a key with metrics:read or the admin token (Prometheus: `authorization: {type: Bearer, credentials_file: …}`).",
        tags: ["ops"],
        response: { 200: z.string(), 401: ErrorBodySchema },
      },
      handler: async (_request, reply) =>
        reply.type(deps.metrics.contentType).send(await deps.metrics.scrape()),
    });
  };

/** Counts and times every answer; the route label is the pattern (/v1/routes/:id), never the raw URL. */
export function measureHttp(app: FastifyInstance, metrics: Metrics): void {
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpRequest(request.method, route, reply.statusCode, reply.elapsedTime);
  });
}
