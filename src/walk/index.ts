export { needsRewalk, type Rewalk, rewalk } from "./rewalk.ts";
export { type RouteWalk, requestOf, type WalkError, type WalkOptions, walkEvent } from "./walk-event.ts";
export { outcomeOf, type WalkOutcome } from "./walk-outcome.ts";
export { Walker, type WalkerOptions, type WalkObserver } from "./walker.ts";
