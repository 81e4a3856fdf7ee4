export { type RouteWalk, requestOf, type WalkError, type WalkOptions, walkEvent } from "./walk-event.ts";
export { deliveriesOf, Walker, type WalkerOptions } from "./walker.ts";
