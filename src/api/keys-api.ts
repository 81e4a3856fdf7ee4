import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  buildKeyRecord,
  KeyCreatedSchema,
  KeyInSchema,
  KeyListSchema,
  missingScopes,
  newKeySecret,
  toKeyOut,
} from "../access/index.ts";
import { HookgateError } from "../errors.ts";
import { forbidden, keyStoreOf, principalOf } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { ErrorBodySchema } from "./schemas.ts";

const IdParams = z.object({ id: z.string().min(1).max(100) });
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 404: ErrorBodySchema };

/** Scoped API keys: made, listed and revoked by a key with keys:admin (or the admin token). */
export const keysApi =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const keys = keyStoreOf(deps);

    app.post("/keys", {
      config: { scope: "keys:admin", audit: "key" },
      schema: {
        summary: "Create an API key",
        description:
          "Answers the key (`hgk_…`) once: only its SHA-256 is stored. A key can grant only scopes the key making it holds (403 naming the others).",
        tags: ["keys"],
        body: KeyInSchema,
        response: { 201: KeyCreatedSchema, ...errors },
      },
      handler: async (request, reply) => {
        const now = new Date();
        const over = missingScopes(principalOf(request)?.scopes ?? [], request.body.scopes);
        if (over.length > 0) throw forbidden(over);
        if (request.body.expiresAt && Date.parse(request.body.expiresAt) <= now.getTime())
          throw new HookgateError("HG_ERR_VALIDATION", "expiresAt: is not in the future", [
            { path: "expiresAt", message: "is not in the future" },
          ]);
        const record = buildKeyRecord(request.body, now);
        const key = newKeySecret();
        await keys.create(record, key);
        return reply.code(201).send({ ...toKeyOut(record, null), key });
      },
    });

    app.get("/keys", {
      config: { scope: "keys:admin" },
      schema: {
        summary: "List API keys",
        description: "Never the keys themselves; `lastUsedAt` is noted at most once a minute per process.",
        tags: ["keys"],
        response: { 200: KeyListSchema, ...errors },
      },
      handler: async () => ({ keys: await keys.list() }),
    });

    app.delete("/keys/:id", {
      config: { scope: "keys:admin", audit: "key" },
      schema: {
        summary: "Revoke an API key",
        description:
          "Refused from the next request on, by every gateway process (keys are read from Redis on each request).",
        tags: ["keys"],
        params: IdParams,
        response: { 204: z.null(), ...errors },
      },
      handler: async (request, reply) => {
        if (!(await keys.revoke(request.params.id)))
          throw new HookgateError("HG_ERR_NOT_FOUND", `key ${request.params.id} does not exist`);
        return reply.code(204).send(null);
      },
    });
  };
