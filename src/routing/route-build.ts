import { isDeepStrictEqual } from "node:util";
import { restoreRedactedAuth, restoreRedactedHeaders, SecretSchema } from "../delivery/index.ts";
import { HookgateError } from "../errors.ts";
import { newId } from "../ids.ts";
import { generateSecret } from "../shared/hmac.ts";
import type { Route, RouteIn, RoutePatch } from "./route-schema.ts";

/** Rotated-out secrets kept signing at once; each adds one signature to every request. */
export const MAX_PREVIOUS_SECRETS = 10;

/** A new route from validated input: id, version 1, and a secret when signing needs one. */
export function buildRoute(input: RouteIn, now = new Date()): Route {
  const at = now.toISOString();
  const signing = { ...input.target.signing };
  if (signing.scheme !== "none" && !signing.secret) signing.secret = generateSecret(signing.scheme);
  return {
    ...input,
    id: newId("rte", now.getTime()),
    version: 1,
    createdAt: at,
    updatedAt: at,
    filter: input.filter ?? null,
    map: input.map ?? null,
    template: input.template ?? null,
    disabledReason: null,
    target: { ...input.target, signing },
  };
}

/**
 * The route after a PATCH: top-level fields replace, `target` and `retry` merge one level.
 * A patch that changes nothing (`{}`, the same filter uploaded again) gives back `route` itself,
 * same version: callers see `=== route` and store nothing, so a version names a real change.
 */
export function applyRoutePatch(route: Route, patch: RoutePatch, now = new Date()): Route {
  const { target, retry, sources, ...top } = patch;
  const next: Route = {
    ...route,
    ...Object.fromEntries(Object.entries(top).filter(([, v]) => v !== undefined)),
    version: route.version + 1,
    updatedAt: now.toISOString(),
  };
  if (patch.enabled === true) next.disabledReason = null;
  if (sources === null) delete next.sources;
  else if (sources !== undefined) next.sources = sources;
  if (patch.batch === null) delete next.batch;
  if (target) {
    const { signing, ...rest } = target;
    next.target = { ...route.target, ...definedOnly(rest), signing: { ...route.target.signing } };
    // A route sent back as an answer showed it keeps the values the answer hid.
    if (rest.headers) next.target.headers = restoreRedactedHeaders(rest.headers, route.target.headers);
    if (rest.auth) next.target.auth = restoreRedactedAuth(rest.auth, route.target.auth);
    for (const key of ["auth", "rateLimit", "maxConcurrency"] as const) {
      if (rest[key] === null) delete next.target[key];
    }
    if (signing) {
      const merged = { ...next.target.signing, ...definedOnly(signing) } as Record<string, unknown>;
      for (const key of ["header", "encoding"] as const) if (signing[key] === null) delete merged[key];
      // A new scheme needs a secret of its own kind unless one comes with it, and drops the
      // hmac-sha256 options unless they come with it too (the schema check then refuses them).
      if (signing.scheme && signing.scheme !== route.target.signing.scheme) {
        if (!signing.secret) delete merged.secret;
        for (const key of ["header", "encoding"] as const) if (signing[key] === undefined) delete merged[key];
      }
      next.target.signing = merged as Route["target"]["signing"];
    }
  }
  if (retry) {
    next.retry = {
      scheduleMs: retry.scheduleMs ?? route.retry.scheduleMs,
      on4xx: retry.on4xx ?? route.retry.on4xx,
    };
  }
  if (next.target.signing.scheme !== "none" && !next.target.signing.secret) {
    next.target.signing = { ...next.target.signing, secret: generateSecret(next.target.signing.scheme) };
  }
  // A secret replaced by PATCH is replaced at once: rotation with a grace is its own call.
  if (next.target.signing.secret !== route.target.signing.secret) delete next.previousSecrets;
  return sameContent(next, route) ? route : next;
}

/** Equal but for the version stamp (key order does not count). */
function sameContent(a: Route, b: Route): boolean {
  return isDeepStrictEqual({ ...a, version: 0, updatedAt: "" }, { ...b, version: 0, updatedAt: "" });
}

export interface SecretRotation {
  /** The new secret; generated for the scheme when absent. */
  secret?: string | undefined;
  /** How long the old secret keeps signing alongside the new one (Standard Webhooks). */
  graceS: number;
}

/**
 * The route with a new signing secret. Under Standard Webhooks the old one keeps signing until
 * now + graceS (0: not at all), beside any earlier ones still in their grace; the other schemes
 * carry one signature per request, so their new secret takes over at once.
 */
export function rotateRouteSecret(route: Route, rotation: SecretRotation, now = new Date()): Route {
  const { signing } = route.target;
  if (signing.scheme === "none") {
    throw new HookgateError("HG_ERR_VALIDATION", "the route is not signed: target.signing.scheme is none", [
      { path: "target.signing.scheme", message: "is none: there is no secret to rotate" },
    ]);
  }
  if (
    rotation.secret !== undefined &&
    signing.scheme === "standard-webhooks" &&
    !SecretSchema.safeParse(rotation.secret).success
  ) {
    throw new HookgateError(
      "HG_ERR_VALIDATION",
      "secret: must be whsec_ followed by base64 of 24 to 64 bytes",
      [{ path: "secret", message: "must be whsec_ followed by base64 of 24 to 64 bytes" }],
    );
  }
  const next: Route = {
    ...route,
    version: route.version + 1,
    updatedAt: now.toISOString(),
    target: {
      ...route.target,
      signing: { ...signing, secret: rotation.secret ?? generateSecret(signing.scheme) },
    },
  };
  delete next.previousSecrets;
  if (signing.scheme !== "standard-webhooks") return next;
  const at = now.getTime();
  const previous = (route.previousSecrets ?? []).filter((p) => Date.parse(p.expiresAt) > at);
  if (signing.secret && rotation.graceS > 0) {
    previous.push({ secret: signing.secret, expiresAt: new Date(at + rotation.graceS * 1000).toISOString() });
  }
  // Too many: the ones whose grace ends soonest are dropped.
  previous.sort((a, b) => Date.parse(b.expiresAt) - Date.parse(a.expiresAt));
  if (previous.length > 0) next.previousSecrets = previous.slice(0, MAX_PREVIOUS_SECRETS);
  return next;
}

function definedOnly<T extends object>(o: T): Partial<{ [K in keyof T]: Exclude<T[K], null> }> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<{
    [K in keyof T]: Exclude<T[K], null>;
  }>;
}
