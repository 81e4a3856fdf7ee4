import type { WalkObserver } from "../walk/index.ts";

/** One observer telling several (the walker takes one: the metrics and the stats both listen). */
export const walkObservers = (...observers: readonly WalkObserver[]): WalkObserver => ({
  walked: (walks, durationMs) => {
    for (const o of observers) o.walked(walks, durationMs);
  },
  deliveriesQueued: (routeIds) => {
    for (const o of observers) o.deliveriesQueued(routeIds);
  },
});
