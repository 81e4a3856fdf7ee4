export {
  aboutRoute,
  globAsksForOwn,
  isOwnType,
  OWN_EVENT_TYPES,
  OWN_SOURCE,
  type OwnEventType,
} from "./own-event-rules.ts";
export { type FailedDelivery, OwnEvents, type OwnEventsOptions } from "./own-events.ts";
