import { createHmac, createSecretKey, type KeyObject, randomBytes } from "node:crypto";

/*
 * Standard Webhooks signing (https://www.standardwebhooks.com):
 *   signed content = `${webhook-id}.${webhook-timestamp}.${body}`
 *   webhook-signature = "v1," + base64(HMAC-SHA256(key, signed content)), space-separated when
 *   several keys sign (rotation). The key is the base64-decoded part of `whsec_<base64>`.
 * Inputs: secret(s), message id (stable across retries), unix seconds, the exact body bytes.
 */

/** A new secret: whsec_ + base64 for Standard Webhooks, 32 random bytes in base64url otherwise. */
export function generateSecret(scheme = "standard-webhooks"): string {
  const bytes = randomBytes(32);
  return scheme === "standard-webhooks" ? `whsec_${bytes.toString("base64")}` : bytes.toString("base64url");
}

// Decoding the secret and building a KeyObject per request showed in profiles; routes have few.
const keys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 10_000;

function secretKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    key = createSecretKey(Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64"));
    keys.set(secret, key);
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
      const mac = createHmac("sha256", secretKey(secret));
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
