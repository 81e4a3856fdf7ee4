/** Pure wording of states and numbers for the page. */
import type { Route, Target } from "./api.ts";

export function routeState(route: Route, held: number): string {
  const heldText = held > 0 ? `, ${held >= 500 ? "500+" : held} held` : "";
  if (route.enabled) return `on${heldText}`;
  if (route.disabledReason) return `disabled: ${route.disabledReason}${heldText}`;
  return `off (${route.whileDisabled === "hold" ? "holds" : "drops"} events)${heldText}`;
}

export function targetState(target: Target | undefined, now = Date.now()): string {
  if (!target) return "—";
  const parts = [`breaker ${target.breaker.state}`];
  if (target.breaker.failures > 0) parts.push(`${target.breaker.failures} failures`);
  if (target.pausedUntil && Date.parse(target.pausedUntil) > now)
    parts.push(`paused until ${time(target.pausedUntil)}`);
  if (target.lanes) parts.push(`${target.lanes.inFlight} in flight, ${target.lanes.waiting} waiting`);
  return parts.join(", ");
}

/** A target that the resume action would change: paused, or its breaker not closed. */
export const resumable = (t: Target | undefined, now = Date.now()): boolean =>
  t !== undefined &&
  (t.breaker.state !== "closed" || (t.pausedUntil !== null && Date.parse(t.pausedUntil) > now));

export const time = (iso: string): string => new Date(iso).toLocaleString();

export const ms = (n: number | null): string =>
  n === null ? "—" : n >= 1000 ? `≤${n / 1000} s` : `≤${n} ms`;
