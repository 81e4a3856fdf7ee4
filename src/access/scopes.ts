/*
 * What an API key may do. Each /v1 operation declares the one scope it needs beside its
 * definition (fastify route `config: { scope }`); the auth hook checks it. The bootstrap admin
 * token (HOOKGATE_ADMIN_TOKEN) holds every scope.
 */

export const SCOPES = [
  "routes:read",
  "routes:write",
  "events:write",
  "deliveries:read",
  "deliveries:write",
  "sources:read",
  "sources:write",
  "targets:read",
  "targets:write",
  "keys:admin",
  "audit:read",
  "metrics:read",
] as const;

export type Scope = (typeof SCOPES)[number];

/** What each scope lets a key do: the README's table and the OpenAPI descriptions say the same. */
export const SCOPE_MEANING: Record<Scope, string> = {
  "routes:read": "read routes and their versions, walk events through them (dry-run), sample bodies",
  "routes:write":
    "create, change, reorder and delete routes, their functions and secrets; test sends; rollbacks",
  "events:write": "send events (POST /v1/events)",
  "deliveries:read": "read deliveries and stats; the queues board and the dashboard",
  "deliveries:write": "retry deliveries, redrive a route, drop held deliveries",
  "sources:read": "read email sources (never their secrets)",
  "sources:write": "create, change and delete email sources",
  "targets:read": "read targets: pause, breaker, last answers",
  "targets:write": "resume a paused target or close its breaker",
  "keys:admin": "create, list and revoke API keys (only with scopes the key holds itself)",
  "audit:read": "read the audit trail",
  "metrics:read": "scrape /metrics",
};

/** The scopes of `needed` that `granted` lacks, in the order asked. */
export function missingScopes(granted: readonly string[], needed: readonly string[]): string[] {
  const have = new Set(granted);
  return needed.filter((s) => !have.has(s));
}

/**
 * An operation's OpenAPI schema with the scope it needs: as the `x-scope` extension, as the bearer
 * requirement's scope list, and in the description a reader sees.
 */
export function withScopeDoc<T extends object>(schema: T, scope: Scope | undefined): T {
  if (!scope) return schema;
  const note = `Needs scope \`${scope}\` (an API key with it, or the admin token).`;
  const given = (schema as { description?: unknown }).description;
  const description = typeof given === "string" ? `${given}\n\n${note}` : note;
  return { ...schema, description, "x-scope": scope, security: [{ bearer: [scope] }] };
}
