export {
  EMAIL_STATUSES,
  type EmailAddress,
  type EmailStatus,
  type EmailView,
  type EventIn,
  EventInSchema,
  type HookgateEvent,
  PostedEventInSchema,
} from "./event-schema.ts";
export {
  globAsksForOwn,
  isOwnType,
  OWN_EVENT_TYPES,
  OWN_PREFIX,
  OWN_SOURCE,
  type OwnEventType,
} from "./own-event-types.ts";
