import { generateSecret } from "../delivery/sign.ts";
import { newId } from "../ids.ts";
import type { Route, RouteIn, RoutePatch } from "./route-schema.ts";

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

/** The route after a PATCH: top-level fields replace, `target` and `retry` merge one level. */
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
    for (const key of ["auth", "rateLimit", "maxConcurrency"] as const) {
      if (rest[key] === null) delete next.target[key];
    }
    if (signing) {
      const merged = { ...next.target.signing, ...definedOnly(signing) } as Record<string, unknown>;
      for (const key of ["header", "encoding"] as const) if (signing[key] === null) delete merged[key];
      // A new scheme needs a secret of its own kind unless one comes with it.
      if (signing.scheme && signing.scheme !== route.target.signing.scheme && !signing.secret)
        delete merged.secret;
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
  return next;
}

function definedOnly<T extends object>(o: T): Partial<{ [K in keyof T]: Exclude<T[K], null> }> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<{
    [K in keyof T]: Exclude<T[K], null>;
  }>;
}
