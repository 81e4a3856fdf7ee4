import { randomBytes } from "node:crypto";
import { z } from "zod";
import { HookgateError } from "../errors.ts";
import { newId } from "../ids.ts";
import { DisplayNameSchema } from "../shared/display-name.ts";
import { generateSecret, STANDARD_WEBHOOKS_SECRET } from "../shared/hmac.ts";

/** The systems Hookgate takes webhooks from, each with its own body shape and authentication. */
export const SOURCE_KINDS = [
  "emailengine",
  "stalwart",
  "mailtrap",
  "mailslurp",
  "mailpilot",
  "standard-webhooks",
  "generic",
] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** Kinds whose sender signs the body with a shared secret (HMAC-SHA256). */
const SIGNING_KINDS: ReadonlySet<SourceKind> = new Set([
  "emailengine",
  "stalwart",
  "mailtrap",
  "standard-webhooks",
]);
/** Kinds that cannot sign and must be authenticated by basic auth or a header token. */
const AUTH_REQUIRED_KINDS: ReadonlySet<SourceKind> = new Set(["mailslurp", "mailpilot"]);

/** How each kind proves a request came from it (shown in the API so senders can be configured). */
export const VERIFICATION: Record<SourceKind, string> = {
  emailengine: "X-EE-Wh-Signature: base64url HMAC-SHA256(secret, raw body) (EmailEngine's serviceSecret)",
  stalwart: "X-Signature: base64 HMAC-SHA256(secret, raw body) (Stalwart's signature-key), and/or basic auth",
  mailtrap: "X-Mailtrap-Signature: hex HMAC-SHA256(secret, raw body)",
  mailslurp: "basic auth (the webhook's username/password) or a static header (includeHeaders)",
  mailpilot: "a static header (e.g. Authorization: Bearer <token>) or basic auth",
  "standard-webhooks": "webhook-id, webhook-timestamp (±5 min), webhook-signature v1 (whsec_ secret)",
  generic: "none, or basic auth or a static header token when `auth` is set",
};

const HeaderNameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name");

export const SourceAuthSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("basic"),
    username: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^:\s]+$/, "must not contain ':' or spaces"),
    password: z.string().min(1).max(500),
  }),
  z.strictObject({
    type: z.literal("header"),
    name: HeaderNameSchema,
    value: z
      .string()
      .min(8)
      .max(4096)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
      .regex(/^[^\x00-\x1f\x7f]+$/, "must not contain control characters"),
  }),
]);
export type SourceAuth = z.infer<typeof SourceAuthSchema>;

const SecretInSchema = z
  .string()
  .min(8)
  .max(500)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  .regex(/^[^\x00-\x1f\x7f]+$/, "must not contain control characters");

const NameSchema = DisplayNameSchema;

export const SourceInSchema = z
  .strictObject({
    name: NameSchema,
    kind: z.enum(SOURCE_KINDS),
    secret: SecretInSchema.nullable()
      .optional()
      .describe(
        "HMAC key of signing kinds (emailengine, stalwart, mailtrap, standard-webhooks: whsec_…); generated when absent. null on stalwart means basic auth only.",
      ),
    auth: SourceAuthSchema.nullable()
      .optional()
      .describe(
        "Basic auth or a header token the sender sends. Required by mailslurp and mailpilot (an Authorization: Bearer token is generated when absent); optional for the others.",
      ),
  })
  .meta({
    id: "SourceIn",
    example: { name: "EmailEngine production", kind: "emailengine" },
  });
export type SourceIn = z.infer<typeof SourceInSchema>;

export const SourcePatchSchema = z
  .strictObject({
    name: NameSchema.optional(),
    secret: SecretInSchema.nullable().optional(),
    auth: SourceAuthSchema.nullable().optional(),
  })
  .meta({ id: "SourcePatch" });
export type SourcePatch = z.infer<typeof SourcePatchSchema>;

/** A stored source. `secret` and `auth` are credentials: never shown after creation or rotation. */
export interface Source {
  id: string;
  name: string;
  kind: SourceKind;
  secret: string | null;
  auth: SourceAuth | null;
  createdAt: string;
  updatedAt: string;
}

export const SourceOutSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(SOURCE_KINDS),
    ingestUrl: z
      .string()
      .describe("Where the sender posts: POST, no admin token, authenticated by `verification`"),
    verification: z.string(),
    secret: z.string().optional().describe("Only present in the answer that created or rotated it"),
    hasSecret: z.boolean(),
    auth: z
      .object({
        type: z.enum(["basic", "header"]),
        username: z.string().optional(),
        password: z.string().optional().describe("Only present in the answer that created or changed it"),
        name: z.string().optional(),
        value: z.string().optional().describe("Only present in the answer that created or changed it"),
      })
      .nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "SourceOut" });
export type SourceOut = z.infer<typeof SourceOutSchema>;

export function newSourceId(now = Date.now()): string {
  return `src_${newId("evt", now).slice(4)}`;
}

function generateSourceSecret(kind: SourceKind): string {
  return kind === "standard-webhooks" ? generateSecret() : randomBytes(32).toString("base64url");
}

function invalid(path: string, message: string): never {
  throw new HookgateError("HG_ERR_VALIDATION", `${path}: ${message}`, [{ path, message }]);
}

/** The rules across fields: which kinds take a secret, which need auth. Throws a 400. */
export function checkSource(source: Source): void {
  const { kind, secret, auth } = source;
  if (SIGNING_KINDS.has(kind)) {
    if (secret === null && !(kind === "stalwart" && auth?.type === "basic")) {
      invalid("secret", "is required for this kind (only stalwart with basic auth may go without)");
    }
    if (kind === "standard-webhooks" && secret !== null && !STANDARD_WEBHOOKS_SECRET.test(secret)) {
      invalid("secret", "must be whsec_ followed by base64 of 24 to 64 bytes");
    }
  } else if (secret !== null) {
    invalid("secret", `${kind} does not sign its webhooks; use auth instead`);
  }
  if (AUTH_REQUIRED_KINDS.has(kind) && auth === null) {
    invalid("auth", `${kind} does not sign its webhooks, so basic auth or a header token is required`);
  }
}

/** A new source from validated input: id, and the credentials generated when needed. */
export function buildSource(input: SourceIn, now = new Date()): Source {
  const at = now.toISOString();
  let secret = input.secret === undefined ? null : input.secret;
  if (input.secret === undefined && SIGNING_KINDS.has(input.kind)) secret = generateSourceSecret(input.kind);
  let auth = input.auth ?? null;
  if (input.auth === undefined && AUTH_REQUIRED_KINDS.has(input.kind)) {
    auth = {
      type: "header",
      name: "authorization",
      value: `Bearer ${randomBytes(24).toString("base64url")}`,
    };
  }
  const source: Source = {
    id: newSourceId(now.getTime()),
    name: input.name,
    kind: input.kind,
    secret,
    auth,
    createdAt: at,
    updatedAt: at,
  };
  checkSource(source);
  return source;
}

export function applySourcePatch(source: Source, patch: SourcePatch, now = new Date()): Source {
  const next: Source = { ...source, updatedAt: now.toISOString() };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.secret !== undefined) next.secret = patch.secret;
  if (patch.auth !== undefined) next.auth = patch.auth;
  checkSource(next);
  return next;
}

/** What the API shows of a source: credentials only when `withSecrets` (creation, change). */
export function toSourceOut(source: Source, baseUrl: string, withSecrets = false): SourceOut {
  const { auth } = source;
  let authOut: SourceOut["auth"] = null;
  if (auth?.type === "basic") {
    authOut = { type: "basic", username: auth.username, ...(withSecrets ? { password: auth.password } : {}) };
  } else if (auth?.type === "header") {
    authOut = { type: "header", name: auth.name, ...(withSecrets ? { value: auth.value } : {}) };
  }
  return {
    id: source.id,
    name: source.name,
    kind: source.kind,
    ingestUrl: `${baseUrl}/v1/ingest/${source.id}`,
    verification: VERIFICATION[source.kind],
    ...(withSecrets && source.secret ? { secret: source.secret } : {}),
    hasSecret: source.secret !== null,
    auth: authOut,
    createdAt: source.createdAt,
    updatedAt: source.updatedAt,
  };
}
