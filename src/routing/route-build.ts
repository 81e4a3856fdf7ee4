import { generateSecret } from "../delivery/sign.ts";
import { newId } from "../ids.ts";
import type { Route, RouteIn, RoutePatch } from "./route-schema.ts";

/** A new route from validated input: id, version 1, and a secret when signing needs one. */
export function buildRoute(input: RouteIn, now = new Date()): Route {
  const at = now.toISOString();
  const signing = { ...input.target.signing };
  if (signing.scheme === "standard-webhooks" && !signing.secret) signing.secret = generateSecret();
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
  if (target) {
    const { signing, ...rest } = target;
    next.target = {
      ...route.target,
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
      signing: { ...route.target.signing, ...(signing ?? {}) },
    };
  }
  if (retry) {
    next.retry = {
      scheduleMs: retry.scheduleMs ?? route.retry.scheduleMs,
      on4xx: retry.on4xx ?? route.retry.on4xx,
    };
  }
  if (next.target.signing.scheme === "standard-webhooks" && !next.target.signing.secret) {
    next.target.signing = { ...next.target.signing, secret: generateSecret() };
  }
  return next;
}
