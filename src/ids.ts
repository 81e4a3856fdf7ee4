import { createHash, randomBytes } from "node:crypto";

/** Prefixed ids tell at a glance what a string names (rte_, evt_, dlv_), as Svix does. */
export type IdPrefix = "rte" | "evt" | "dlv";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case

function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Time-ordered (48-bit ms timestamp first) so ids sort by creation, then 80 random bits. */
export function newId(prefix: IdPrefix, now = Date.now()): string {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, Math.floor(now / 2 ** 32));
  view.setUint32(2, now >>> 0);
  bytes.set(randomBytes(10), 6);
  return `${prefix}_${base32(bytes)}`;
}

/**
 * A delivery id derived from what it delivers: walking the same event twice (after a crash)
 * yields the same id, so the queue recognises the job and the receiver sees one webhook-id.
 */
export function deliveryIdFor(eventId: string, routeId: string): string {
  const digest = createHash("sha256").update(eventId).update("\0").update(routeId).digest();
  return `dlv_${base32(digest.subarray(0, 16))}`;
}
