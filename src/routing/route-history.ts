import type { Route } from "./route-schema.ts";

/*
 * Pure decisions about a route's history: what changed between two versions, and the route a
 * rollback stores. The store keeps the versions (RouteStore.versions); the API shows them.
 */

/** Fields every change moves: not worth naming as what changed. */
const BOOKKEEPING = new Set(["version", "updatedAt", "createdAt"]);
/** Nested objects whose fields are named one level down (target.url, retry.on4xx). */
const NESTED = new Set(["target", "retry"]);

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * The fields `next` changed from `previous`, as paths (`filter`, `target.url`), sorted. A secret's
 * value is never shown, only that `target.signing` changed.
 */
export function changedFields(previous: Route, next: Route): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(previous), ...Object.keys(next)]);
  for (const key of keys) {
    if (BOOKKEEPING.has(key)) continue;
    const a = (previous as unknown as Record<string, unknown>)[key];
    const b = (next as unknown as Record<string, unknown>)[key];
    if (same(a, b)) continue;
    if (NESTED.has(key) && a && b && typeof a === "object" && typeof b === "object") {
      const inner = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const k of inner) {
        const x = (a as Record<string, unknown>)[k];
        const y = (b as Record<string, unknown>)[k];
        if (!same(x, y)) out.push(`${key}.${k}`);
      }
    } else out.push(key);
  }
  return out.sort();
}

/**
 * The route a rollback to `past` stores: that version's content as the next version of
 * `current`. Kept from `current`: identity, creation time, the on/off state (turning a route on
 * or off is its own decision, see PATCH enabled) and the signing settings with their secret and
 * any rotation in its grace, so a rollback never brings back a rotated-out secret. Everything else
 * (events, sources, filter, map, template, target URL, headers and auth, retry, ...) is `past`'s.
 */
export function rollbackRoute(current: Route, past: Route, now = new Date()): Route {
  const next: Route = {
    ...past,
    id: current.id,
    version: current.version + 1,
    createdAt: current.createdAt,
    updatedAt: now.toISOString(),
    enabled: current.enabled,
    disabledReason: current.disabledReason,
    target: { ...past.target, signing: current.target.signing },
  };
  if (current.whileDisabled === undefined) delete next.whileDisabled;
  else next.whileDisabled = current.whileDisabled;
  if (current.previousSecrets) next.previousSecrets = current.previousSecrets;
  else delete next.previousSecrets;
  return next;
}
