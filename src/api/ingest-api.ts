import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { HookgateError } from "../errors.ts";
import { eventsFromRequest } from "../sources/index.ts";
import type { ApiDeps } from "./deps.ts";
import { ErrorBodySchema } from "./schemas.ts";

const Params = z.object({ sourceId: z.string().min(1).max(100) });

/**
 * POST /v1/ingest/:sourceId, where email systems send their webhooks. No admin token: each
 * request is authenticated by its source's own scheme on the raw body bytes, so this plugin keeps
 * the body as a Buffer (whatever the content type) and parses the JSON itself after verifying.
 */
export const ingestApi =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

    app.post("/:sourceId", {
      schema: {
        summary: "Receive a source's webhook",
        description:
          "The sender's own body and signature: EmailEngine X-EE-Wh-Signature, Stalwart X-Signature (and/or basic auth), Mailtrap X-Mailtrap-Signature, Standard Webhooks headers (±5 min), or basic auth / a header token (MailSlurp, Mailpilot, generic). Batches become one event each; event ids come from the sender's ids, so a redelivery is answered as a duplicate and not delivered again. The 200 goes back only after the events are stored. A bad or missing signature is a 401 and nothing is stored.",
        tags: ["ingest"],
        security: [],
        params: Params,
        body: z.unknown().describe("The sender's webhook body as it sends it (JSON)"),
        response: {
          200: z.object({
            accepted: z.int().describe("Events stored now"),
            duplicates: z.int().describe("Events already seen within the dedup window (not delivered again)"),
          }),
          400: ErrorBodySchema,
          401: ErrorBodySchema,
          404: ErrorBodySchema,
          413: ErrorBodySchema,
          503: ErrorBodySchema,
        },
      },
      handler: async (request, reply) => {
        const source = await deps.sources.get(request.params.sourceId);
        if (!source) {
          deps.metrics.ingestRejected("unknown", "HG_ERR_NOT_FOUND");
          throw new HookgateError("HG_ERR_NOT_FOUND", `source ${request.params.sourceId} does not exist`);
        }
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        let events: ReturnType<typeof eventsFromRequest>;
        try {
          events = eventsFromRequest(source, { raw, headers: request.headers });
        } catch (err) {
          // A storm of bad signatures or malformed bodies is something to alert on.
          const code = err instanceof HookgateError ? err.code : "HG_ERR_INTERNAL";
          deps.metrics.ingestRejected(source.kind, code);
          // Failed authentication: counted per minute into one hookgate.source.rejected event.
          if (code === "HG_ERR_UNAUTHORIZED") deps.ownEvents?.sourceRejected(source.id, source.kind, code);
          throw err;
        }
        const result = await deps.intake.accept(events);
        deps.metrics.eventsAccepted(source.kind, events, result);
        const duplicates = result.filter((r) => r.duplicate).length;
        return reply.code(200).send({ accepted: result.length - duplicates, duplicates });
      },
    });
  };
