import { z } from "zod";
import { STANDARD_WEBHOOKS_SECRET } from "../shared/hmac.ts";
import { envRefProblem } from "./env-refs.ts";

/*
 * The target's contract: where a route's requests go and how they are signed and authorised.
 * Header values and credentials may be ${ENV_NAME} references, checked here and resolved only
 * when a request is built (env-refs.ts); what answers show of them is redact.ts's.
 */

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

export const DEFAULT_HMAC_HEADER = "x-hookgate-signature";

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

/** The header (lower case) a body-only scheme writes; null for standard-webhooks and none. */
export function signatureHeaderOf(
  signing: Pick<z.infer<typeof SigningSchema>, "scheme" | "header">,
): string | null {
  switch (signing.scheme) {
    case "emailengine":
      return "x-ee-wh-signature";
    case "stalwart":
      return "x-signature";
    case "hmac-sha256":
      return (signing.header ?? DEFAULT_HMAC_HEADER).toLowerCase();
    default:
      return null;
  }
}

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
export type Target = z.infer<typeof TargetSchema>;
export type TargetAuth = z.infer<typeof TargetAuthSchema>;

/** PATCH of a target: merged one level deep into the stored one, so a secret need not be resent. */
export const TargetPatchSchema = z.strictObject({
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
});

/** A secret replaced by a rotation, still signing beside the current one until `expiresAt`. */
export interface PreviousSecret {
  secret: string;
  expiresAt: string;
}

/** A target with what signs its requests: its own secret, and rotated-out ones in their grace. */
export interface SignedTarget {
  target: Target;
  previousSecrets?: readonly PreviousSecret[] | undefined;
}
