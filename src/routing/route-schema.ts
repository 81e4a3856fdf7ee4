import { z } from "zod";
import { envRefProblem } from "../delivery/env-refs.ts";
import { REDACTED, shownAuth, shownHeaders } from "../delivery/redact.ts";
import { signatureHeaderOf } from "../delivery/sign.ts";
import { DisplayNameSchema } from "../shared/display-name.ts";
import { STANDARD_WEBHOOKS_SECRET } from "../shared/hmac.ts";
import { TemplateSchema } from "../templates/index.ts";

export { REDACTED };

/** Svix's schedule: after the immediate first try, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE_MS = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
] as const;

export const MAX_FUNCTION_BYTES = 256 * 1024;

/** Standard Webhooks secrets: whsec_ + base64 of 24 to 64 bytes (the HMAC key is the decoded bytes). */
export const SecretSchema = z
  .string()
  .regex(STANDARD_WEBHOOKS_SECRET, "must be whsec_ followed by base64 of 24 to 64 bytes");

const HeaderNameSyntax = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name");
const HeaderNameSchema = HeaderNameSyntax.refine(
  (name) =>
    !/^(content-length|host|transfer-encoding|connection|webhook-(id|timestamp|signature))$/i.test(name),
  "is set by Hookgate and cannot be overridden",
);

// Header values must not carry CR/LF (request splitting) or other control characters.
// ${ENV_NAME} references are checked here and resolved only when a request is built.
const HeaderValueSchema = z
  .string()
  .max(8192)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  .regex(/^[^\x00-\x08\x0a-\x1f\x7f]*$/, "must not contain control characters")
  .superRefine((value, ctx) => {
    const problem = envRefProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const PublicHeadersSchema = z
  .array(HeaderNameSyntax)
  .max(100)
  .describe(
    "Names of `headers` whose values are not secret: answers show them. Every other literal header value shows as [redacted] after creation (an ${ENV_NAME} reference shows as written)",
  );

// Set by Hookgate from the route itself: a signature header in their place would be a lie.
const SIGNATURE_HEADER_TAKEN = /^(content-type|user-agent|authorization)$/i;

export const SIGNING_SCHEMES = [
  "standard-webhooks",
  "emailengine",
  "stalwart",
  "hmac-sha256",
  "none",
] as const;
export type SigningScheme = (typeof SIGNING_SCHEMES)[number];

/**
 * How the body is signed. `standard-webhooks` (webhook-id/-timestamp/-signature, whsec_ secret);
 * `emailengine` (X-EE-Wh-Signature: base64url HMAC-SHA256 of the body); `stalwart` (X-Signature:
 * base64 HMAC-SHA256 of the body); `hmac-sha256` (HMAC-SHA256 of the body in `header`, hex or
 * base64). A secret is generated when none is given.
 */
export const SigningSchema = z
  .strictObject({
    scheme: z.enum(SIGNING_SCHEMES).default("standard-webhooks"),
    secret: z.string().min(16).max(512).optional(),
    header: HeaderNameSchema.optional().describe("hmac-sha256 only: the header that carries the signature"),
    encoding: z.enum(["hex", "base64"]).optional().describe("hmac-sha256 only: hex (default) or base64"),
  })
  .superRefine((s, ctx) => {
    if (
      s.scheme === "standard-webhooks" &&
      s.secret !== undefined &&
      !SecretSchema.safeParse(s.secret).success
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["secret"],
        message: "must be whsec_ followed by base64 of 24 to 64 bytes",
      });
    }
    if (s.scheme !== "hmac-sha256" && (s.header !== undefined || s.encoding !== undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["header"],
        message: "header and encoding apply to hmac-sha256 only",
      });
    }
    if (s.header !== undefined && SIGNATURE_HEADER_TAKEN.test(s.header)) {
      ctx.addIssue({ code: "custom", path: ["header"], message: "cannot carry the signature" });
    }
  });

// Credentials may be written as ${ENV_NAME}: resolved from the environment at send time only.
const CredentialSchema = HeaderValueSchema.min(1).max(4096);
export const TargetAuthSchema = z
  .discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("basic"),
      // RFC 7617: the user-id ends at the first colon.
      username: CredentialSchema.refine((u) => !u.includes(":"), "must not contain a colon"),
      password: CredentialSchema,
    }),
    z.strictObject({ type: z.literal("bearer"), token: CredentialSchema }),
  ])
  .describe("Authorization sent to the target; values may be ${ENV_NAME}, resolved at send time");

export const TargetSchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/ }).max(2048),
    method: z.enum(["POST", "PUT", "PATCH"]).default("POST"),
    headers: z
      .record(HeaderNameSchema, HeaderValueSchema)
      .default({})
      .describe("Values may use ${ENV_NAME}, resolved from the gateway's environment at send time"),
    publicHeaders: PublicHeadersSchema.optional(),
    timeoutMs: z.int().min(100).max(120_000).default(10_000),
    signing: SigningSchema.prefault({}),
    auth: TargetAuthSchema.nullable().optional(),
    format: z
      .enum(["raw", "form"])
      .default("raw")
      .describe(
        "raw: the rendered body as is; form: a JSON object body sent as application/x-www-form-urlencoded",
      ),
    rateLimit: z
      .number()
      .positive()
      .max(10_000)
      .optional()
      .describe(
        "Requests per second to this target URL, shared by every route and worker (Slack: 1 by default)",
      ),
    maxConcurrency: z
      .int()
      .min(1)
      .max(1_000)
      .optional()
      .describe(
        "Requests in flight to this target URL per worker process (HOOKGATE_TARGET_CONCURRENCY by default)",
      ),
  })
  .superRefine((t, ctx) => {
    // What Hookgate sets from the route itself cannot also come from `headers`.
    const taken = new Map<string, string>();
    const signature = signatureHeaderOf(t.signing);
    if (signature) taken.set(signature, `is the ${t.signing.scheme} signature header`);
    if (t.auth) taken.set("authorization", "is set from auth; give one or the other");
    for (const name of Object.keys(t.headers)) {
      const why = taken.get(name.toLowerCase());
      if (why) ctx.addIssue({ code: "custom", path: ["headers", name], message: why });
    }
  });

export const RetrySchema = z.strictObject({
  scheduleMs: z
    .array(
      z
        .int()
        .min(0)
        .max(7 * 24 * 3600 * 1000),
    )
    .max(25)
    .default([...DEFAULT_RETRY_SCHEDULE_MS]),
  on4xx: z.boolean().default(false),
});

// Globs on the event type: * is any run of characters, ? one character.
const EventGlobSchema = z
  .string()
  .min(1)
  .max(200)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  .regex(/^[^\x00-\x1f\x7f]+$/, "must not contain control characters");

const FunctionSourceSchema = z.string().min(1).max(MAX_FUNCTION_BYTES).nullable();

// A source id (src_…) or a source kind (emailengine, stalwart, …); the route takes only their events.
const SourceRefSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, "must be a source id (src_…) or a source kind");
const SourcesSchema = z
  .array(SourceRefSchema)
  .min(1)
  .max(100)
  .describe("Only events from these sources, by id (src_…) or kind (emailengine, …); absent: every source");

/** The route's own function limits; the gateway's HOOKGATE_FUNCTION_* settings are the maxima. */
export const FunctionLimitsSchema = z
  .strictObject({
    timeoutMs: z.int().min(10).max(60_000).optional().describe("Deadline of one filter or map call"),
    memoryLimitMb: z.int().min(8).max(1024).optional().describe("Heap limit of the route's isolate"),
  })
  .describe("Lowered to the gateway's caps when larger");

const OrderingSchema = z
  .enum(["none", "fifo"])
  .describe("fifo: this route's deliveries go out strictly in ingest order, each waiting for the one before");

export const WhileDisabledSchema = z
  .enum(["hold", "drop"])
  .describe(
    "What the route does with its events while it is turned off: hold them as `held` deliveries, sent in order when it is turned on again, or drop them. A route Hookgate turned off itself (a 410, a gone chat webhook, failing for days) always holds.",
  );

export const BatchSchema = z
  .strictObject({
    maxEvents: z.int().min(1).max(1_000).default(100),
    maxWaitMs: z.int().min(0).max(3_600_000).default(1_000),
  })
  .describe('Send {"events": [...]} with up to maxEvents bodies, at most maxWaitMs after the first');

const routeFields = {
  name: DisplayNameSchema,
  enabled: z.boolean().default(true),
  events: z.array(EventGlobSchema).min(1).max(100).default(["*"]),
  sources: SourcesSchema.optional(),
  filter: FunctionSourceSchema.optional(),
  map: FunctionSourceSchema.optional(),
  limits: FunctionLimitsSchema.optional(),
  template: TemplateSchema.nullable().optional(),
  target: TargetSchema,
  retry: RetrySchema.prefault({}),
  stop: z.boolean().default(false),
  ordering: OrderingSchema.default("none"),
  batch: BatchSchema.nullable().optional(),
  whileDisabled: WhileDisabledSchema.default("hold"),
};

export const RouteInSchema = z.strictObject(routeFields).meta({
  id: "RouteIn",
  example: {
    name: "invoices to billing",
    events: ["messageNew"],
    filter: 'export default (event) => /invoice/i.test(event.data.subject ?? "")',
    target: { url: "https://billing.example.com/hooks/email" },
  },
});
export type RouteIn = z.infer<typeof RouteInSchema>;

/** PATCH: top-level fields replace; `target` merges one level deep so a secret need not be resent. */
export const RoutePatchSchema = z
  .strictObject({
    name: routeFields.name.optional(),
    enabled: z.boolean().optional(),
    events: z.array(EventGlobSchema).min(1).max(100).optional(),
    sources: SourcesSchema.nullable().optional().describe("null removes the restriction"),
    filter: FunctionSourceSchema.optional(),
    map: FunctionSourceSchema.optional(),
    limits: FunctionLimitsSchema.nullable().optional(),
    template: TemplateSchema.nullable().optional(),
    target: z
      .strictObject({
        url: TargetSchema.shape.url.optional(),
        method: z.enum(["POST", "PUT", "PATCH"]).optional(),
        headers: z
          .record(HeaderNameSchema, HeaderValueSchema)
          .optional()
          .describe('A "[redacted]" value keeps the stored value of that header'),
        publicHeaders: PublicHeadersSchema.optional(),
        timeoutMs: z.int().min(100).max(120_000).optional(),
        signing: z
          .strictObject({
            scheme: z.enum(SIGNING_SCHEMES).optional(),
            secret: z.string().min(16).max(512).optional(),
            header: HeaderNameSchema.nullable().optional(),
            encoding: z.enum(["hex", "base64"]).nullable().optional(),
          })
          .optional(),
        auth: TargetAuthSchema.nullable().optional(),
        format: z.enum(["raw", "form"]).optional(),
        rateLimit: TargetSchema.shape.rateLimit.nullable().describe("null removes it"),
        maxConcurrency: TargetSchema.shape.maxConcurrency.nullable().describe("null removes it"),
      })
      .optional(),
    retry: z
      .strictObject({ scheduleMs: RetrySchema.shape.scheduleMs.optional(), on4xx: z.boolean().optional() })
      .optional(),
    stop: z.boolean().optional(),
    ordering: OrderingSchema.optional(),
    batch: BatchSchema.nullable().optional().describe("null turns batching off"),
    whileDisabled: WhileDisabledSchema.optional(),
  })
  .meta({ id: "RoutePatch" });
export type RoutePatch = z.infer<typeof RoutePatchSchema>;

/** A stored route: what was given, with every default applied, plus identity and version. */
export interface Route extends Omit<RouteIn, "filter" | "map" | "template" | "limits" | "whileDisabled"> {
  /** Absent on routes stored before it existed: "hold". */
  whileDisabled?: RouteIn["whileDisabled"];
  limits?: RouteIn["limits"] | null;
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  filter: string | null;
  map: string | null;
  template: RouteIn["template"] | null;
  /** Why Hookgate disabled the route itself (the receiver said the webhook is gone), if it did. */
  disabledReason: string | null;
  batch?: RouteIn["batch"] | null;
  /** Secrets replaced by a rotation that still sign alongside the current one until `expiresAt`. */
  previousSecrets?: { secret: string; expiresAt: string }[];
}

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
