import type { AttemptErrorCode } from "../errors.ts";
import { isBlockedAddressError } from "./guarded-agent.ts";

/**
 * Typed reasons an attempt got no HTTP answer (Hook0-style), as recorded in the delivery log;
 * with the codes of a request that could not be built (request-build-error.ts), the catalog's
 * attempt codes (src/errors.ts).
 */
export type { AttemptErrorCode };

function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const o = e as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof o.code === "string") codes.push(o.code);
    if (typeof o.name === "string") codes.push(o.name);
    e = o.cause;
  }
  return codes;
}

export function classifyAttemptError(err: unknown, phase: "headers" | "body"): AttemptErrorCode {
  if (isBlockedAddressError(err)) return "E_BLOCKED_ADDRESS";
  const codes = codesOf(err);
  const has = (...names: string[]) => codes.some((c) => names.includes(c));
  if (has("TimeoutError", "AbortError", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "ETIMEDOUT")) {
    return phase === "body" ? "E_RESPONSE_TOO_SLOW" : "E_TIMEOUT";
  }
  if (has("UND_ERR_BODY_TIMEOUT")) return "E_RESPONSE_TOO_SLOW";
  if (has("ECONNREFUSED")) return "E_CONNECTION_REFUSED";
  if (has("ECONNRESET", "EPIPE", "UND_ERR_SOCKET")) return "E_CONNECTION_RESET";
  if (has("ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME")) return "E_DNS";
  if (codes.some((c) => c.startsWith("ERR_TLS") || c.startsWith("CERT_") || c.includes("SSL")))
    return "E_TLS";
  return "E_NETWORK";
}
