export { needsRewalk, type Rewalk, rewalk } from "./rewalk.ts";
export { type RouteWalk, requestOf, type WalkError, type WalkOptions, walkEvent } from "./walk-event.ts";
export { outcomeOf, Walker, type WalkerOptions, type WalkObserver, type WalkOutcome } from "./walker.ts";
