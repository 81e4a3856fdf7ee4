import { createHmac, createSecretKey, type KeyObject, randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Route } from "../routing/index.ts";

/*
 * Outgoing signatures, pure. Every scheme signs the exact body bytes that are sent.
 *   standard-webhooks (https://www.standardwebhooks.com):
 *     signed content = `${webhook-id}.${webhook-timestamp}.${body}`
 *     webhook-signature = "v1," + base64(HMAC-SHA256(key, signed content)), space-separated when
 *     several keys sign (rotation). The key is the base64-decoded part of `whsec_<base64>`.
 *   emailengine: X-EE-Wh-Signature = base64url(HMAC-SHA256(secret, body)), as EmailEngine signs
 *     its own webhooks with its serviceSecret (lib/webhooks.js).
 *   stalwart: X-Signature = padded base64(HMAC-SHA256(secret, body)), as Stalwart's webhook
 *     tracer does with its signature-key (crates/common/src/telemetry/webhooks).
 *   hmac-sha256: <header> (x-hookgate-signature) = hex (default) or base64 HMAC-SHA256(secret, body).
 * For the last three the key is the secret's UTF-8 bytes, as in EmailEngine and Stalwart, and the
 * header holds one signature: only Standard Webhooks can sign with a rotated-out secret as well.
 */

type Signing = Route["target"]["signing"];

export const DEFAULT_HMAC_HEADER = "x-hookgate-signature";

/** A new secret: whsec_ + base64 for Standard Webhooks, 32 random bytes in base64url otherwise. */
export function generateSecret(scheme = "standard-webhooks"): string {
  const bytes = randomBytes(32);
  return scheme === "standard-webhooks" ? `whsec_${bytes.toString("base64")}` : bytes.toString("base64url");
}

// Decoding the secret and building a KeyObject per request showed in profiles; routes have few.
const keys = new LRUCache<string, KeyObject>({ max: 10_000 });

function secretKey(secret: string, bytes: "base64" | "utf8"): KeyObject {
  const cacheKey = `${bytes}:${secret}`;
  let key = keys.get(cacheKey);
  if (!key) {
    const text = bytes === "base64" && secret.startsWith("whsec_") ? secret.slice(6) : secret;
    key = createSecretKey(Buffer.from(text, bytes));
    keys.set(cacheKey, key);
  }
  return key;
}

export function standardWebhooksSignature(
  secrets: readonly string[],
  id: string,
  timestampS: number,
  body: string | Buffer,
): string {
  return secrets
    .map((secret) => {
      const mac = createHmac("sha256", secretKey(secret, "base64"));
      mac.update(`${id}.${timestampS}.`);
      mac.update(body);
      return `v1,${mac.digest("base64")}`;
    })
    .join(" ");
}

export function standardWebhooksHeaders(
  secrets: readonly string[],
  id: string,
  timestampS: number,
  body: string | Buffer,
): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampS),
    "webhook-signature": standardWebhooksSignature(secrets, id, timestampS, body),
  };
}

/** HMAC-SHA256 of the body keyed by the secret's UTF-8 bytes (the body-only schemes). */
export function bodySignature(
  secret: string,
  body: string | Buffer,
  encoding: "hex" | "base64" | "base64url",
): string {
  return createHmac("sha256", secretKey(secret, "utf8")).update(body).digest(encoding);
}

/** The header (lower case) a body-only scheme writes; null for standard-webhooks and none. */
export function signatureHeaderOf(signing: Pick<Signing, "scheme" | "header">): string | null {
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

/**
 * The secrets that sign now: the current one, then (Standard Webhooks only) every rotated-out one
 * whose grace has not ended at `nowMs`.
 */
export function activeSecrets(route: Pick<Route, "target" | "previousSecrets">, nowMs: number): string[] {
  const { secret, scheme } = route.target.signing;
  if (!secret || scheme === "none") return [];
  if (scheme !== "standard-webhooks" || !route.previousSecrets?.length) return [secret];
  const previous = route.previousSecrets.filter((p) => Date.parse(p.expiresAt) > nowMs).map((p) => p.secret);
  return [secret, ...previous];
}

/** The signature headers of one request; empty when unsigned. `secrets[0]` is the current one. */
export function signatureHeaders(
  signing: Pick<Signing, "scheme" | "header" | "encoding">,
  secrets: readonly string[],
  messageId: string,
  timestampS: number,
  body: string | Buffer,
): Record<string, string> {
  const [current] = secrets;
  if (current === undefined) return {};
  switch (signing.scheme) {
    case "standard-webhooks":
      return standardWebhooksHeaders(secrets, messageId, timestampS, body);
    case "emailengine":
      return { "x-ee-wh-signature": bodySignature(current, body, "base64url") };
    case "stalwart":
      return { "x-signature": bodySignature(current, body, "base64") };
    case "hmac-sha256":
      return {
        [signatureHeaderOf(signing) ?? DEFAULT_HMAC_HEADER]: bodySignature(
          current,
          body,
          signing.encoding ?? "hex",
        ),
      };
    default:
      return {};
  }
}
