import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { SCOPES, type Scope } from "./scopes.ts";

/*
 * An API key: `hgk_` and 32 random bytes (base64url), shown once when it is made. Redis keeps
 * only its SHA-256, so a copy of Redis holds nothing a request could present. The checks here
 * are pure; key-store.ts does the I/O.
 */

export const KEY_PREFIX = "hgk_";

/** Who made a request: a key, or the bootstrap admin token (id and name "admin"). */
export interface Principal {
  keyId: string;
  keyName: string;
  scopes: readonly Scope[];
}

export const ADMIN_PRINCIPAL: Principal = { keyId: "admin", keyName: "admin", scopes: SCOPES };

export const KeyInSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\p{Cc}\p{Cf}\u2028\u2029]+$/u, "no control, format or line-separator characters")
      .describe("What the key is for, shown in listings and the audit trail"),
    scopes: z
      .array(z.enum(SCOPES))
      .min(1)
      .max(SCOPES.length)
      .refine((s) => new Set(s).size === s.length, "each scope once")
      .describe("What the key may do; a key can only grant scopes the key making it holds"),
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe("After this time the key is refused (401); absent: it never expires"),
  })
  .meta({
    examples: [
      { name: "ci-deploy", scopes: ["routes:read", "routes:write"], expiresAt: "2027-01-01T00:00:00Z" },
    ],
  });
export type KeyIn = z.infer<typeof KeyInSchema>;

/** What Redis holds of a key (never the key itself). */
export interface KeyRecord {
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: string;
  expiresAt: string | null;
}

export const KeyOutSchema = z
  .object({
    id: z.string().describe("key_…: names the key in listings, DELETE and the audit trail"),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z
      .string()
      .nullable()
      .describe("When a request last presented it (noted at most once a minute per process), or null"),
  })
  .meta({ id: "KeyOut" });

const KEY_EXAMPLE: KeyOut = {
  id: "key_4be2c4a0d1f33a9e0b7c",
  name: "ci-deploy",
  scopes: ["routes:read", "routes:write"],
  createdAt: "2026-11-23T10:00:00.000Z",
  expiresAt: "2027-01-01T00:00:00.000Z",
  lastUsedAt: "2026-11-23T10:04:05.000Z",
};
export type KeyOut = z.infer<typeof KeyOutSchema>;

export const KeyCreatedSchema = KeyOutSchema.extend({
  key: z
    .string()
    .describe("hgk_…: the key itself, shown only in this answer. Send it as Authorization: Bearer"),
}).meta({
  examples: [{ ...KEY_EXAMPLE, lastUsedAt: null, key: "hgk_Qm9vdHN0cmFwIGV4YW1wbGUga2V5IG5vdCByZWFsIQ" }],
});

export const KeyListSchema = z
  .object({ keys: z.array(KeyOutSchema) })
  .meta({ examples: [{ keys: [KEY_EXAMPLE] }] });

export function newKeyId(): string {
  return `key_${randomBytes(10).toString("hex")}`;
}

export function newKeySecret(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** What Redis indexes a key by. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export function buildKeyRecord(input: KeyIn, now: Date): KeyRecord {
  return {
    id: newKeyId(),
    name: input.name,
    scopes: input.scopes,
    createdAt: now.toISOString(),
    expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
  };
}

/** Whether a stored key still opens the API at `nowMs`. */
export function keyIsLive(record: KeyRecord, nowMs: number): boolean {
  return record.expiresAt === null || Date.parse(record.expiresAt) > nowMs;
}
