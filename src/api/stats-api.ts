import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { HookgateError } from "../errors.ts";
import { LATENCY_BOUNDS_MS, MINUTE_MS, STATS_RETENTION_MS, type StatsAnswer } from "../stats/index.ts";
import type { ApiDeps } from "./deps.ts";
import { ErrorBodySchema } from "./schemas.ts";

const StatsQuerySchema = z.strictObject({
  routeId: z.string().min(1).max(100).optional().describe("One route's counts; every route's when absent"),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("Start of the range (default: an hour ago; at most 2 days ago, the retention)"),
  until: z.iso.datetime({ offset: true }).optional().describe("End of the range (default: now)"),
  step: z.coerce
    .number()
    .int()
    .min(60)
    .max(86_400)
    .refine((s) => s % 60 === 0, "a whole number of minutes, in seconds")
    .default(60)
    .describe("Seconds per point of the series, a multiple of 60 (default 60)"),
});

const Point = z.object({
  at: z.string().describe("Start of the point's interval (ISO 8601)"),
  in: z.int().describe("Deliveries made for the route(s): events taken, each route counting its own"),
  delivered: z.int().describe("Attempts answered with success"),
  failed: z.int().describe("Attempts after which the delivery failed for good"),
  retried: z.int().describe("Attempts that failed and left the delivery retrying"),
});

const EXAMPLE: StatsAnswer = {
  totals: { in: 42, delivered: 38, failed: 1, retrying: 5, latencyMs: { p50: 100, p99: 1000 } },
  series: [
    { at: "2026-11-23T16:00:00.000Z", in: 20, delivered: 19, failed: 0, retried: 1 },
    { at: "2026-11-23T16:01:00.000Z", in: 22, delivered: 19, failed: 1, retried: 4 },
  ],
};

const StatsOutSchema = z
  .object({
    totals: z.object({
      in: z.int(),
      delivered: z.int(),
      failed: z.int(),
      retrying: z
        .int()
        .describe("Attempts in the range that left their delivery retrying (the sum of `retried`)"),
      latencyMs: z
        .object({ p50: z.int().nullable(), p99: z.int().nullable() })
        .describe(
          `Attempt latency percentiles as the upper bound of their bucket (${LATENCY_BOUNDS_MS.join(", ")} ms); null with no attempts or past the last bound`,
        ),
    }),
    series: z.array(Point).describe("One point per `step`, oldest first, zeros included"),
  })
  .meta({ examples: [EXAMPLE] });

/** Events in and attempt outcomes per minute, from counters every worker adds to in Redis. */
export const statsApi =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get("/stats", {
      config: { scope: "deliveries:read" },
      schema: {
        summary: "Events in and attempt outcomes over time, for one route or all",
        description:
          "Counted per minute in Redis by every worker, kept 2 days. Points are `step` seconds wide, starting at `since` rounded down to the step.",
        tags: ["deliveries"],
        querystring: StatsQuerySchema,
        response: { 200: StatsOutSchema, 400: ErrorBodySchema, 401: ErrorBodySchema },
      },
      handler: async (request) => {
        const q = request.query;
        const now = Date.now();
        const untilMs = q.until ? Date.parse(q.until) : now;
        const sinceMs = q.since ? Date.parse(q.since) : untilMs - 60 * MINUTE_MS;
        if (untilMs < sinceMs)
          throw new HookgateError("HG_ERR_VALIDATION", "until: is before since", [
            { path: "until", message: "is before since" },
          ]);
        if (sinceMs < now - STATS_RETENTION_MS)
          throw new HookgateError(
            "HG_ERR_VALIDATION",
            "since: is older than the 2 days the counts are kept",
            [{ path: "since", message: "is older than the 2 days the counts are kept" }],
          );
        if (!deps.stats) throw new HookgateError("HG_ERR_UNAVAILABLE", "this process keeps no stats");
        return deps.stats.read({ routeId: q.routeId ?? null, sinceMs, untilMs, stepMs: q.step * 1000 });
      },
    });
  };
