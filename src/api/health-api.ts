import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { requireServerOf } from "../shared/redis.ts";
import { redisKeys } from "../shared/redis-keys.ts";
import type { ApiDeps } from "./deps.ts";

const Health = z.object({
  status: z.enum(["ok", "unavailable"]),
  checks: z.record(z.string(), z.boolean()).optional(),
});

/** Liveness and readiness, without auth (probes carry no token). */
export const healthApi =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    // With Redis Cluster, the primary that holds the gateway's slot is the one that must answer.
    const ourKey = redisKeys(deps.config.HOOKGATE_KEY_PREFIX).events;
    app.get("/healthz", {
      schema: { summary: "Liveness", tags: ["health"], response: { 200: Health } },
      handler: async () => ({ status: "ok" as const }),
    });

    app.get("/readyz", {
      schema: {
        summary: "Readiness: Redis reachable and this process's workers running",
        tags: ["health"],
        response: { 200: Health, 503: Health },
      },
      handler: async (_request, reply) => {
        const redis = await Promise.resolve()
          .then(() => requireServerOf(deps.redis, ourKey).ping())
          .then(
            (r) => r === "PONG",
            () => false,
          );
        const checks = { redis, ...(deps.readiness?.() ?? {}) };
        const ok = Object.values(checks).every(Boolean);
        return reply.code(ok ? 200 : 503).send({ status: ok ? "ok" : "unavailable", checks });
      },
    });
  };
