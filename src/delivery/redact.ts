import { HookgateError } from "../errors.ts";
import type { OutgoingRequest } from "./build-request.ts";
import type { Target, TargetAuth } from "./target-schema.ts";

/*
 * What API answers show of target credentials: the route API (toRouteOut) and the dry-run's request
 * use these, so both show the same thing. A stored header value is shown only when it cannot hold
 * a secret: its name is listed in `target.publicHeaders`, or it is an ${ENV_NAME} reference
 * (unresolved), optionally after an auth scheme word ("Bearer ${API_TOKEN}"). Every other header
 * value is [redacted]: a header's name says nothing reliable about whether it carries a secret
 * (X-Session, X-Hub-Signature, X-PSK…), so the route says which ones do not.
 */

export const REDACTED = "[redacted]";

const REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;
const SCHEME_AND_REFERENCE = /^(?:[A-Za-z][A-Za-z0-9-]* +)?\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

type HeaderFields = Pick<Target, "headers" | "publicHeaders">;

/** The route's headers as an answer may show them, under the names as stored. */
export function shownHeaders(target: HeaderFields): Record<string, string> {
  const open = new Set((target.publicHeaders ?? []).map((name) => name.toLowerCase()));
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(target.headers)) {
    shown[name] = open.has(name.toLowerCase()) || SCHEME_AND_REFERENCE.test(value) ? value : REDACTED;
  }
  return shown;
}

export function shownCredential(value: string): string {
  return REFERENCE.test(value) ? value : REDACTED;
}

export function shownAuth(auth: TargetAuth): TargetAuth {
  return auth.type === "basic"
    ? { type: "basic", username: auth.username, password: shownCredential(auth.password) }
    : { type: "bearer", token: shownCredential(auth.token) };
}

/**
 * A built request as an API answer may show it: the route's own headers as stored (references
 * unresolved, credentials redacted) and the Authorization made from target.auth likewise.
 * Signatures stay: they are what the receiver checks, not secrets.
 */
export function redactRequest(
  request: OutgoingRequest,
  target: HeaderFields & Pick<Target, "auth">,
): OutgoingRequest {
  const headers = { ...request.headers };
  for (const [name, value] of Object.entries(shownHeaders(target))) {
    headers[name.toLowerCase()] = value;
  }
  const { auth } = target;
  if (auth) {
    headers.authorization =
      auth.type === "bearer" ? `Bearer ${shownCredential(auth.token)}` : `Basic ${REDACTED}`;
  }
  return { ...request, headers };
}

function placeholderWithoutValue(path: string): never {
  const message = `is "${REDACTED}", the gateway hiding a stored value, but nothing is stored there: write the value or \${ENV_NAME}`;
  throw new HookgateError("HG_ERR_VALIDATION", `${path}: ${message}`, [{ path, message }]);
}

/**
 * PATCH headers with every "[redacted]" (a value sent back the way an answer showed it) replaced
 * by the stored value it hides, found by name without regard to case, so a route read, edited
 * and sent back keeps its secrets. A placeholder with no stored value under its name is a 400.
 */
export function restoreRedactedHeaders(
  sent: Record<string, string>,
  stored: Record<string, string>,
): Record<string, string> {
  const byName = new Map(Object.entries(stored).map(([name, value]) => [name.toLowerCase(), value]));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(sent)) {
    if (value !== REDACTED) out[name] = value;
    else
      out[name] =
        stored[name] ?? byName.get(name.toLowerCase()) ?? placeholderWithoutValue(`target.headers.${name}`);
  }
  return out;
}

/** PATCH auth with a "[redacted]" credential replaced by the stored one of the same type (400 if none). */
export function restoreRedactedAuth(sent: TargetAuth, stored: TargetAuth | null | undefined): TargetAuth {
  if (sent.type === "bearer") {
    if (sent.token !== REDACTED) return sent;
    return stored?.type === "bearer"
      ? { ...sent, token: stored.token }
      : placeholderWithoutValue("target.auth.token");
  }
  if (sent.password !== REDACTED) return sent;
  return stored?.type === "basic"
    ? { ...sent, password: stored.password }
    : placeholderWithoutValue("target.auth.password");
}
