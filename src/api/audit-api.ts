import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AuditEntrySchema, type AuditLog } from "../access/index.ts";
import { HookgateError } from "../errors.ts";
import { ErrorBodySchema } from "./schemas.ts";

const AuditQuery = z.strictObject({
  since: z.iso.datetime({ offset: true }).optional().describe("Entries at or after this time"),
  until: z.iso.datetime({ offset: true }).optional().describe("Entries at or before this time"),
  routeId: z.string().min(1).max(100).optional().describe("Only changes that concern this route"),
  keyId: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe('Only changes made with this key ("admin": the admin token)'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const EXAMPLE: z.infer<typeof AuditEntrySchema> = {
  id: "1795428245123-0",
  at: "2026-11-23T10:04:05.123Z",
  keyId: "key_4be2c4a0d1f33a9e0b7c",
  keyName: "ci-deploy",
  requestId: "0f6f4b5e-9d0a-4c55-8d57-2f1c1b2f6a11",
  operation: "PUT /v1/routes/:id/:kind",
  status: 200,
  subject: { type: "route", id: "rte_01JD6Q2V8W7T3K9X4M5N6P7R8S" },
  routeId: "rte_01JD6Q2V8W7T3K9X4M5N6P7R8S",
  changes: [
    {
      path: "filter",
      before: "export default (event) => event.type === 'messageNew';",
      after: "export default (event) => event.type === 'messageBounce';",
    },
    { path: "version", before: 3, after: 4 },
  ],
};

/** GET /v1/audit: who changed what through the API, newest first. */
export const auditApi =
  (audit: AuditLog): FastifyPluginAsyncZod =>
  async (app) => {
    app.get("/audit", {
      config: { scope: "audit:read" },
      schema: {
        summary: "The audit trail, newest first",
        description:
          "Every change made through the API: when, which key, the operation, the request id, and a field-by-field diff with secrets and literal header values [redacted]. Kept for HOOKGATE_AUDIT_RETENTION_S and at most HOOKGATE_AUDIT_RETENTION_COUNT entries.",
        tags: ["audit"],
        querystring: AuditQuery,
        response: {
          200: z.object({ entries: z.array(AuditEntrySchema) }).meta({ examples: [{ entries: [EXAMPLE] }] }),
          400: ErrorBodySchema,
          401: ErrorBodySchema,
          403: ErrorBodySchema,
        },
      },
      handler: async (request) => {
        const q = request.query;
        const sinceMs = q.since ? Date.parse(q.since) : undefined;
        const untilMs = q.until ? Date.parse(q.until) : undefined;
        if (sinceMs !== undefined && untilMs !== undefined && untilMs < sinceMs)
          throw new HookgateError("HG_ERR_VALIDATION", "until: is before since", [
            { path: "until", message: "is before since" },
          ]);
        const entries = await audit.query({
          limit: q.limit,
          ...(sinceMs === undefined ? {} : { sinceMs }),
          ...(untilMs === undefined ? {} : { untilMs }),
          ...(q.routeId ? { routeId: q.routeId } : {}),
          ...(q.keyId ? { keyId: q.keyId } : {}),
        });
        return { entries };
      },
    });
  };
