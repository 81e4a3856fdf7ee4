import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { type TargetSnapshot, targetKeyOf } from "../delivery/index.ts";
import { HookgateError } from "../errors.ts";
import { promoteWaiting } from "../queue/index.ts";
import type { Route } from "../routing/index.ts";
import type { ApiDeps } from "./deps.ts";
import { ErrorBodySchema } from "./schemas.ts";

/*
 * What the gateway knows of each target endpoint (scheme, host, port and path: what the routes'
 * URLs share limits, breaker and pause by), and the operator's way out of a pause or an open
 * breaker that the receiver no longer deserves.
 */

const IdParams = z.object({ id: z.string().min(1).max(100) });
const at = (what: string) => z.string().nullable().describe(`${what} (ISO 8601), or null`);

const TargetOutSchema = z.object({
  id: z.string().describe("tgt_ and a hash of the endpoint: stable while any route points there"),
  url: z
    .string()
    .describe("The endpoint: scheme, host, port and path of its routes' URLs (no credentials, no query)"),
  routes: z.array(z.string()).describe("Ids of the routes that send to it, in walk order"),
  pausedUntil: at("Nothing is sent until then, as the receiver asked (429/503 Retry-After, at most 6 h)"),
  breaker: z.object({
    state: z.enum(["closed", "open", "half-open"]),
    failures: z.int().describe("Consecutive failed attempts (no answer, 5xx, 408) counted to open it"),
    openUntil: at("When an open breaker lets a probe through"),
    failingSince: at("First failed attempt since the last success"),
  }),
  lanes: z
    .object({
      inFlight: z.int().describe("Requests in flight to it from this process"),
      waiting: z.int().describe("Requests waiting here for one of its lanes"),
    })
    .nullable()
    .describe("null when this process does not deliver (HOOKGATE_ROLE=api)"),
  lastSuccessAt: at("A recent 2xx answer (noted at most every 10 s per worker)"),
  lastAnswers: z
    .array(
      z.object({
        at: z.string(),
        statusCode: z.int().nullable(),
        errorCode: z
          .string()
          .nullable()
          .describe("E_TIMEOUT, E_CONNECTION_REFUSED, … (the error catalog) when there was no answer"),
        durationMs: z.int(),
      }),
    )
    .describe(
      "Its last answers that were not a plain 2xx (and the 2xx that ended a run of them), newest first, at most 10",
    ),
});
type TargetOut = z.infer<typeof TargetOutSchema>;

const EXAMPLE: TargetOut = {
  id: "tgt_4be2c4a0d1f33a9e0b7c",
  url: "https://crm.example.com/hooks/email",
  routes: ["rte_01JD6Q2V8W7T3K9X4M5N6P7R8S"],
  pausedUntil: "2026-11-23T16:04:05.000Z",
  breaker: { state: "closed", failures: 0, openUntil: null, failingSince: "2026-11-23T10:04:05.000Z" },
  lanes: { inFlight: 0, waiting: 0 },
  lastSuccessAt: "2026-11-23T10:01:12.000Z",
  lastAnswers: [{ at: "2026-11-23T10:04:05.000Z", statusCode: 429, errorCode: null, durationMs: 41 }],
};

/** The routes grouped by the target they send to, in walk order. */
export interface TargetGroup {
  key: string;
  id: string;
  url: string;
  routes: string[];
}

export function targetIdOf(key: string): string {
  return `tgt_${key}`;
}

/**
 * A route URL as its target: what the target key is made of. Credentials (user info) and the
 * query, where tokens travel, are not part of it and are never shown.
 */
export function endpointOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "";
  }
}

export function groupTargets(routes: readonly Pick<Route, "id" | "target">[]): TargetGroup[] {
  const groups = new Map<string, TargetGroup>();
  for (const route of routes) {
    const key = targetKeyOf(route.target.url);
    const group = groups.get(key);
    if (group) group.routes.push(route.id);
    else groups.set(key, { key, id: targetIdOf(key), url: endpointOf(route.target.url), routes: [route.id] });
  }
  return [...groups.values()];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toTargetOut(group: TargetGroup, s: TargetSnapshot, lanes: TargetOut["lanes"]): TargetOut {
  return {
    id: group.id,
    url: group.url,
    routes: group.routes,
    pausedUntil: iso(s.pausedUntil),
    breaker: {
      state: s.breaker.state,
      failures: s.breaker.failures,
      openUntil: iso(s.breaker.openUntil),
      failingSince: iso(s.breaker.failingSince),
    },
    lanes,
    lastSuccessAt: iso(s.lastSuccessAt),
    lastAnswers: s.lastAnswers.map((a) => ({
      at: new Date(a.at).toISOString(),
      statusCode: a.statusCode,
      errorCode: a.errorCode,
      durationMs: Math.round(a.durationMs),
    })),
  };
}

export const targetsApi =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    async function show(groups: TargetGroup[]): Promise<TargetOut[]> {
      const snapshots = await deps.targets.snapshots(
        groups.map((g) => g.key),
        Date.now(),
      );
      return groups.map((g, i) =>
        toTargetOut(g, snapshots[i] as TargetSnapshot, deps.targetLanes?.(g.key) ?? null),
      );
    }

    async function find(id: string): Promise<TargetGroup> {
      const group = groupTargets(await deps.store.list()).find((g) => g.id === id);
      if (!group) throw new HookgateError("HG_ERR_NOT_FOUND", `target ${id} is not the target of any route`);
      return group;
    }

    app.get("/targets", {
      config: { scope: "targets:read" },
      schema: {
        summary: "List the targets of the routes, with their pause, breaker and last answers",
        tags: ["targets"],
        response: {
          200: z.object({ targets: z.array(TargetOutSchema) }).meta({ examples: [{ targets: [EXAMPLE] }] }),
          401: ErrorBodySchema,
        },
      },
      handler: async () => ({ targets: await show(groupTargets(await deps.store.list())) }),
    });

    app.get("/targets/:id", {
      config: { scope: "targets:read" },
      schema: {
        summary: "Get a target",
        tags: ["targets"],
        params: IdParams,
        response: {
          200: TargetOutSchema.meta({ examples: [EXAMPLE] }),
          401: ErrorBodySchema,
          404: ErrorBodySchema,
        },
      },
      handler: async (request) => {
        const [target] = await show([await find(request.params.id)]);
        return target as TargetOut;
      },
    });

    app.post("/targets/:id/resume", {
      config: { scope: "targets:write", audit: "target" },
      schema: {
        summary: "Lift a target's pause and close its breaker",
        description:
          "For a receiver that is well again before its Retry-After (capped at 6 h) or its breaker's cooldown is over. The pause is lifted and the breaker closed in one step, seen at once by every worker; the deliveries of the target's routes waiting in the queue (deferred for the target, or retries) are made due now. Answers the target's new state.",
        tags: ["targets"],
        params: IdParams,
        response: {
          200: TargetOutSchema.meta({
            examples: [{ ...EXAMPLE, pausedUntil: null }],
          }),
          401: ErrorBodySchema,
          404: ErrorBodySchema,
        },
      },
      handler: async (request) => {
        const group = await find(request.params.id);
        // Lifted first: a delivery made due before would find the target still paused.
        await deps.targets.resume(group.key);
        await promoteWaiting(deps.queue.queue, new Set(group.routes));
        const [target] = await show([group]);
        return target as TargetOut;
      },
    });
  };
