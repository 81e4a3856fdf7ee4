import { z } from "zod";
import { SIGNING_SCHEMES, shownAuth, shownHeaders } from "../delivery/index.ts";
import type { Route } from "../routing/index.ts";

const SigningOutSchema = z.object({
  scheme: z.enum(SIGNING_SCHEMES),
  secret: z.string().optional().describe("Only present in the answer that created or rotated it"),
  header: z.string().optional(),
  encoding: z.enum(["hex", "base64"]).optional(),
});

export const RouteOutSchema = z
  .object({
    id: z.string(),
    version: z.int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    name: z.string(),
    enabled: z.boolean(),
    events: z.array(z.string()),
    sources: z.array(z.string()).optional().describe("Only events from these source ids or kinds"),
    filter: z.string().nullable(),
    map: z.string().nullable(),
    limits: z
      .object({ timeoutMs: z.int().optional(), memoryLimitMb: z.int().optional() })
      .nullable()
      .optional(),
    template: z.unknown().nullable(),
    target: z.object({
      url: z.string(),
      method: z.string(),
      headers: z
        .record(z.string(), z.string())
        .describe("Values show as [redacted] unless public or ${ENV_NAME}"),
      publicHeaders: z.array(z.string()).optional(),
      timeoutMs: z.int(),
      signing: SigningOutSchema,
      auth: z
        .union([
          z.object({ type: z.literal("basic"), username: z.string(), password: z.string() }),
          z.object({ type: z.literal("bearer"), token: z.string() }),
        ])
        .nullable()
        .optional()
        .describe("Credentials show as [redacted] unless written as ${ENV_NAME}"),
      format: z.enum(["raw", "form"]),
      rateLimit: z.number().optional(),
      maxConcurrency: z.int().optional(),
    }),
    retry: z.object({ scheduleMs: z.array(z.int()), on4xx: z.boolean() }),
    stop: z.boolean(),
    ordering: z.enum(["none", "fifo"]),
    batch: z.object({ maxEvents: z.int(), maxWaitMs: z.int() }).nullable().optional(),
    whileDisabled: z.enum(["hold", "drop"]),
    secretRotation: z
      .object({ previousSecretExpiresAt: z.string() })
      .optional()
      .describe("Present while a rotated-out secret still signs alongside the current one"),
    disabledReason: z
      .string()
      .nullable()
      .describe("Set when Hookgate disabled the route because the receiver said the webhook is gone"),
  })
  .meta({ id: "RouteOut" });
export type RouteOut = z.infer<typeof RouteOutSchema>;

export interface RouteOutOptions {
  /** Show header values and auth as given (default: as `withSecret`, i.e. creation). */
  credentials?: boolean;
  /** For which rotated-out secrets still sign. */
  now?: number;
}

/**
 * What the API shows of a route. The signing secret only when `withSecret` (creation, rotation);
 * header values and auth credentials only in the answer that created them, and otherwise as the
 * delivery/redact rules say (publicHeaders and ${ENV_NAME} references shown, the rest [redacted]).
 */
export function toRouteOut(route: Route, withSecret = false, options: RouteOutOptions = {}): RouteOut {
  const { previousSecrets, ...rest } = route;
  const { secret, ...signing } = route.target.signing;
  const showCredentials = options.credentials ?? withSecret;
  const now = options.now ?? Date.now();
  const headers = showCredentials ? route.target.headers : shownHeaders(route.target);
  const graceEnds = (previousSecrets ?? []).map((p) => Date.parse(p.expiresAt)).filter((at) => at > now);
  const rotation = graceEnds.length
    ? { secretRotation: { previousSecretExpiresAt: new Date(Math.max(...graceEnds)).toISOString() } }
    : {};
  const { auth } = route.target;
  return {
    ...rest,
    ...rotation,
    template: route.template ?? null,
    disabledReason: route.disabledReason ?? null,
    whileDisabled: route.whileDisabled ?? "hold",
    target: {
      ...route.target,
      headers,
      auth: auth && !showCredentials ? shownAuth(auth) : auth,
      signing: withSecret && secret ? { ...signing, secret } : signing,
    },
  };
}
