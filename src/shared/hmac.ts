import { createHmac, createSecretKey, type KeyObject, randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";

/*
 * HMAC-SHA256 keys and signatures, pure: the one home for what signing a request to a target
 * (delivery/sign.ts) and checking a sender's signature (sources/) have in common.
 *   Standard Webhooks (https://www.standardwebhooks.com): the key is the base64-decoded part of
 *     `whsec_<base64>`; signed content = `${id}.${timestampS}.${body}`; the header value is
 *     "v1," + base64(HMAC), space-separated when several keys sign (rotation).
 *   Body-only schemes (EmailEngine, Stalwart, Mailtrap, hmac-sha256): HMAC of the body keyed by
 *     the secret's UTF-8 bytes, as those systems sign their own webhooks.
 */

/** A Standard Webhooks secret: whsec_ + base64 of 24 to 64 bytes. */
export const STANDARD_WEBHOOKS_SECRET = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;

/** A new secret: whsec_ + base64 for Standard Webhooks, 32 random bytes in base64url otherwise. */
export function generateSecret(scheme = "standard-webhooks"): string {
  const bytes = randomBytes(32);
  return scheme === "standard-webhooks" ? `whsec_${bytes.toString("base64")}` : bytes.toString("base64url");
}

// Decoding the secret and building a KeyObject per request showed in profiles; secrets are few.
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

/** The webhook-signature value: one "v1,<base64>" per secret, space-separated. */
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

/** HMAC-SHA256 of the body keyed by the secret's UTF-8 bytes (the body-only schemes). */
export function bodySignature(
  secret: string,
  body: string | Buffer,
  encoding: "hex" | "base64" | "base64url",
): string {
  return createHmac("sha256", secretKey(secret, "utf8")).update(body).digest(encoding);
}
