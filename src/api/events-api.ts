import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { PostedEventInSchema } from "../events/index.ts";
import { normalizeEvent } from "../sources/index.ts";
import type { ApiDeps } from "./deps.ts";
import { ErrorBodySchema } from "./schemas.ts";

export const MAX_EVENTS_PER_REQUEST = 1000;

const EventBatch = z.array(PostedEventInSchema).min(1).max(MAX_EVENTS_PER_REQUEST);
export const EventsBodySchema = z.union([
  EventBatch,
  z.strictObject({ events: EventBatch }),
  PostedEventInSchema,
]);

export const eventsApi =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.post("/events", {
      config: { scope: "events:write" },
      schema: {
        summary: "Send events",
        description:
          'One event, an array, or `{"events": [...]}`. Each is stored in Redis before the 202; an id seen within the dedup window is answered as a duplicate and not delivered again. Types starting with `hookgate.` are reserved for the events Hookgate emits about itself (400 naming the prefix).',
        tags: ["events"],
        body: EventsBodySchema,
        response: {
          202: z.object({ events: z.array(z.object({ id: z.string(), duplicate: z.boolean() })) }),
          400: ErrorBodySchema,
          401: ErrorBodySchema,
          413: ErrorBodySchema,
          503: ErrorBodySchema,
        },
      },
      handler: async (request, reply) => {
        const body = request.body;
        const list = Array.isArray(body) ? body : "events" in body ? body.events : [body];
        const now = new Date();
        const events = list.map((e) => normalizeEvent(e, now));
        const accepted = await deps.intake.accept(events);
        deps.metrics.eventsAccepted("api", events, accepted);
        return reply.code(202).send({ events: accepted });
      },
    });
  };
