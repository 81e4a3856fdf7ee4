import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { HookgateError } from "../errors.ts";
import {
  applySourcePatch,
  buildSource,
  listSamples,
  SourceInSchema,
  SourceOutSchema,
  SourcePatchSchema,
  toSourceOut,
} from "../sources/index.ts";
import type { ApiDeps } from "./deps.ts";
import { ErrorBodySchema } from "./schemas.ts";

const IdParams = z.object({ id: z.string().min(1).max(100) });
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema };

/** Where senders reach this gateway, as the client reached it. */
export function baseUrlOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export const sourcesApi =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const { sources } = deps;

    app.post("/sources", {
      config: { scope: "sources:write", audit: "source" },
      schema: {
        summary: "Create an email source",
        description:
          "A sender (EmailEngine, Stalwart, Mailtrap, MailSlurp, Mailpilot, any Standard Webhooks signer, or anything that posts JSON) and how its webhooks are authenticated. A secret (signing kinds) or a bearer token (mailslurp, mailpilot) is generated when none is given; this answer is the only one that shows it. The sender posts to `ingestUrl`.",
        tags: ["sources"],
        body: SourceInSchema,
        response: { 201: SourceOutSchema, ...errors },
      },
      handler: async (request, reply) => {
        const source = buildSource(request.body);
        await sources.create(source);
        return reply.code(201).send(toSourceOut(source, baseUrlOf(request), true));
      },
    });

    app.get("/sources", {
      config: { scope: "sources:read" },
      schema: {
        summary: "List sources",
        tags: ["sources"],
        response: { 200: z.object({ sources: z.array(SourceOutSchema) }), ...errors },
      },
      handler: async (request) => ({
        sources: (await sources.list()).map((s) => toSourceOut(s, baseUrlOf(request))),
      }),
    });

    app.get("/sources/samples", {
      config: { scope: "routes:read" },
      schema: {
        summary: "Sample webhook bodies of every kind and event",
        description:
          "Bodies as each system sends them (from its documentation), for trying routes in the dry-run: post one to a source's ingestUrl to see the events it becomes.",
        tags: ["sources"],
        querystring: z.strictObject({ kind: z.string().max(50).optional() }),
        response: {
          200: z.object({
            samples: z.array(
              z.object({ kind: z.string(), event: z.string(), file: z.string(), body: z.unknown() }),
            ),
          }),
          ...errors,
        },
      },
      handler: async (request) => {
        const { kind } = request.query;
        const list = await listSamples(kind);
        return {
          samples: await Promise.all(
            list.map(async (s) => ({ kind: s.kind, event: s.event, file: s.file, body: await s.load() })),
          ),
        };
      },
    });

    app.get("/sources/:id", {
      config: { scope: "sources:read" },
      schema: {
        summary: "Get a source",
        description:
          "Credentials are not shown: only whether a secret is set and the auth type and user or header name.",
        tags: ["sources"],
        params: IdParams,
        response: { 200: SourceOutSchema, ...errors },
      },
      handler: async (request) => toSourceOut(await sources.require(request.params.id), baseUrlOf(request)),
    });

    app.patch("/sources/:id", {
      config: { scope: "sources:write", audit: "source" },
      schema: {
        summary: "Change a source",
        description:
          "`name`, `secret` (rotate; null on stalwart for basic auth only) and `auth` replace. The kind cannot change. Changed credentials are shown in this answer only.",
        tags: ["sources"],
        params: IdParams,
        body: SourcePatchSchema,
        response: { 200: SourceOutSchema, ...errors },
      },
      handler: async (request) => {
        const current = await sources.require(request.params.id);
        const next = applySourcePatch(current, request.body);
        await sources.replace(next);
        const changed = request.body.secret !== undefined || request.body.auth !== undefined;
        return toSourceOut(next, baseUrlOf(request), changed);
      },
    });

    app.delete("/sources/:id", {
      config: { scope: "sources:write", audit: "source" },
      schema: {
        summary: "Delete a source",
        description: "Its ingest URL answers 404 from now on; events already accepted are walked as usual.",
        tags: ["sources"],
        params: IdParams,
        response: { 204: z.null(), ...errors },
      },
      handler: async (request, reply) => {
        if (!(await sources.delete(request.params.id))) {
          throw new HookgateError("HG_ERR_NOT_FOUND", `source ${request.params.id} does not exist`);
        }
        return reply.code(204).send(null);
      },
    });
  };
