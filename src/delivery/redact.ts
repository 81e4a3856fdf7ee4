import type { Route } from "../routing/index.ts";
import type { OutgoingRequest } from "./build-request.ts";
import type { TargetAuth } from "./target-auth.ts";

/*
 * What API answers show of target credentials: the route API (toRouteOut) and the dry-run's request
 * use these, so both show the same thing. Stored values are shown only when they cannot hold a
 * secret: an ${ENV_NAME} reference (unresolved), optionally after an auth scheme word in a header
 * ("Bearer ${API_TOKEN}"). Anything else in a credential-like header or credential is [redacted].
 */

export const REDACTED = "[redacted]";

const SENSITIVE_HEADER = /authorization|cookie|secret|token|api[-_]?key|password/i;
const REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;
const SCHEME_AND_REFERENCE = /^(?:[A-Za-z][A-Za-z0-9-]* +)?\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

export function shownHeaderValue(name: string, value: string): string {
  return !SENSITIVE_HEADER.test(name) || SCHEME_AND_REFERENCE.test(value) ? value : REDACTED;
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
export function redactRequest(request: OutgoingRequest, route: Pick<Route, "target">): OutgoingRequest {
  const headers = { ...request.headers };
  for (const [name, value] of Object.entries(route.target.headers)) {
    headers[name.toLowerCase()] = shownHeaderValue(name, value);
  }
  const { auth } = route.target;
  if (auth) {
    headers.authorization =
      auth.type === "bearer" ? `Bearer ${shownCredential(auth.token)}` : `Basic ${REDACTED}`;
  }
  return { ...request, headers };
}
