import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { HookgateError } from "../errors.ts";
import {
  type ChangedBy,
  changedFields,
  checkRouteContent,
  type RouteVersion,
  rollbackRoute,
  VERSIONS_KEPT,
} from "../routing/index.ts";
import { principalOf } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { routeOut } from "./docs-examples.ts";
import { RouteOutSchema, toRouteOut } from "./route-out.ts";
import { ErrorBodySchema } from "./schemas.ts";

/*
 * A route's history: every stored version is kept (the last VERSIONS_KEPT), shown redacted as
 * GET /v1/routes/:id shows the route, and any of them can be made the current one again.
 */

const IdParams = z.object({ id: z.string().min(1).max(100) });
const VersionParams = IdParams.extend({ version: z.coerce.number().int().min(1) });
const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema, 409: ErrorBodySchema };

/** The key that made a request (as the auth hook found it; "admin" for the admin token), or null. */
export function changedByOf(request: FastifyRequest): ChangedBy {
  return { keyId: principalOf(request)?.keyId ?? null };
}

const AT = "2025-05-14T10:02:00.000Z";
const VersionSummarySchema = z.object({
  version: z.int(),
  changedAt: z.string(),
  keyId: z.string().nullable().describe("The API key that made the change; null for Hookgate itself"),
  changed: z
    .array(z.string())
    .nullable()
    .describe(
      "Fields changed from the version before (`filter`, `target.url`); [] for the first version, null when the version before is no longer kept",
    ),
  rollbackOf: z.int().optional().describe("This version put back that earlier one"),
});
const VersionsOutSchema = z.object({ versions: z.array(VersionSummarySchema) }).meta({
  id: "RouteVersions",
  examples: [
    {
      versions: [
        { version: 3, changedAt: AT, keyId: "key_ops", changed: ["filter"], rollbackOf: 1 },
        { version: 2, changedAt: AT, keyId: "key_ops", changed: ["filter"] },
        { version: 1, changedAt: AT, keyId: null, changed: [] },
      ],
    },
  ],
});
const RollbackInSchema = z
  .strictObject({ version: z.int().min(1).describe("The kept version whose content becomes current") })
  .meta({ id: "RollbackIn", examples: [{ version: 1 }] });

/** What the list shows of each version: the fields it changed from the one before it. */
export function versionSummaries(versions: readonly RouteVersion[]) {
  return versions.map((v, i) => {
    const before = versions[i + 1];
    const changed = before ? changedFields(before.route, v.route) : v.version === 1 ? [] : null;
    return {
      version: v.version,
      changedAt: v.changedAt,
      keyId: v.keyId,
      changed,
      ...(v.rollbackOf === undefined ? {} : { rollbackOf: v.rollbackOf }),
    };
  });
}

export const versionsApi =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const { store } = deps;
    const example = { ...routeOut("emailengine", false), version: 3 };

    async function kept(id: string, version: number): Promise<RouteVersion> {
      await store.require(id);
      const found = (await store.versions(id)).find((v) => v.version === version);
      if (!found) {
        throw new HookgateError(
          "HG_ERR_NOT_FOUND",
          `route ${id} has no version ${version} kept (the last ${VERSIONS_KEPT} are)`,
        );
      }
      return found;
    }

    app.get("/routes/:id/versions", {
      config: { scope: "routes:read" },
      schema: {
        summary: "List a route's versions",
        description: `The last ${VERSIONS_KEPT} versions of the route, newest first: when, by which key, and which fields each changed.`,
        tags: ["routes"],
        params: IdParams,
        response: { 200: VersionsOutSchema, ...errors },
      },
      handler: async (request) => {
        await store.require(request.params.id);
        return { versions: versionSummaries(await store.versions(request.params.id)) };
      },
    });

    app.get("/routes/:id/versions/:version", {
      config: { scope: "routes:read" },
      schema: {
        summary: "Get a route as it was at one version",
        description: "Shown as GET /v1/routes/{id} shows a route: secrets and credentials redacted.",
        tags: ["routes"],
        params: VersionParams,
        response: { 200: RouteOutSchema.meta({ examples: [example] }), ...errors },
      },
      handler: async (request) => {
        const { id, version } = request.params;
        return toRouteOut((await kept(id, version)).route);
      },
    });

    app.post("/routes/:id/rollback", {
      config: { scope: "routes:write", audit: "route" },
      schema: {
        summary: "Make an earlier version current again",
        description:
          "Stores that version's content as a new version (history only grows). The route stays on or off as it is, and keeps its current signing settings and secret (a rotated-out secret never comes back); everything else is the earlier version's.",
        tags: ["routes"],
        params: IdParams,
        body: RollbackInSchema,
        response: { 200: RouteOutSchema.meta({ examples: [{ ...example, version: 4 }] }), ...errors },
      },
      handler: async (request) => {
        const { id } = request.params;
        const past = await kept(id, request.body.version);
        const by = { ...changedByOf(request), rollbackOf: past.version };
        const next = await store.update(
          id,
          (current) => {
            const rolled = rollbackRoute(current, past.route);
            checkRouteContent(rolled, deps);
            return rolled;
          },
          5,
          by,
        );
        if (!next) throw new HookgateError("HG_ERR_INTERNAL", "the rollback stored nothing");
        return toRouteOut(next, false, { credentials: false });
      },
    });
  };
