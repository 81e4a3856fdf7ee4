import { type EnvSource, resolveEnvRefs } from "./env-refs.ts";
import type { TargetAuth } from "./target-schema.ts";

/** The Authorization header for the target's auth, credentials resolved from `env` now. */
export function authorizationOf(auth: TargetAuth, env: EnvSource): string {
  if (auth.type === "bearer") return `Bearer ${resolveEnvRefs(auth.token, env, "target.auth.token")}`;
  const username = resolveEnvRefs(auth.username, env, "target.auth.username");
  const password = resolveEnvRefs(auth.password, env, "target.auth.password");
  // RFC 7617: base64 of the UTF-8 user-id ":" password.
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}
