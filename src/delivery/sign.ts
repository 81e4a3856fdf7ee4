import { bodySignature, standardWebhooksSignature } from "../shared/hmac.ts";
import { DEFAULT_HMAC_HEADER, type SignedTarget, signatureHeaderOf, type Target } from "./target-schema.ts";

/*
 * Outgoing signatures, pure: which headers each scheme writes (the HMACs are shared/hmac.ts's).
 * Every scheme signs the exact body bytes that are sent.
 *   standard-webhooks (https://www.standardwebhooks.com): webhook-id, webhook-timestamp and
 *     webhook-signature, one "v1,…" per secret that signs (rotation).
 *   emailengine: X-EE-Wh-Signature = base64url(HMAC-SHA256(secret, body)), as EmailEngine signs
 *     its own webhooks with its serviceSecret (lib/webhooks.js).
 *   stalwart: X-Signature = padded base64(HMAC-SHA256(secret, body)), as Stalwart's webhook
 *     tracer does with its signature-key (crates/common/src/telemetry/webhooks).
 *   hmac-sha256: <header> (x-hookgate-signature) = hex (default) or base64 HMAC-SHA256(secret, body).
 * For the last three the key is the secret's UTF-8 bytes, as in EmailEngine and Stalwart, and the
 * header holds one signature: only Standard Webhooks can sign with a rotated-out secret as well.
 */

type Signing = Target["signing"];

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

/**
 * The secrets that sign now: the current one, then (Standard Webhooks only) every rotated-out one
 * whose grace has not ended at `nowMs`.
 */
export function activeSecrets(signed: SignedTarget, nowMs: number): string[] {
  const { secret, scheme } = signed.target.signing;
  if (!secret || scheme === "none") return [];
  if (scheme !== "standard-webhooks" || !signed.previousSecrets?.length) return [secret];
  const previous = signed.previousSecrets.filter((p) => Date.parse(p.expiresAt) > nowMs).map((p) => p.secret);
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
