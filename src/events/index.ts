export {
  EMAIL_STATUSES,
  type EmailAddress,
  type EmailStatus,
  type EmailView,
  type EventIn,
  EventInSchema,
  type HookgateEvent,
} from "./event-schema.ts";
export { normalizeEvent } from "./normalize.ts";
export { sampleEvent } from "./sample.ts";
