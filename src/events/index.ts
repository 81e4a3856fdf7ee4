export { EventInSchema, type EventIn, type HookgateEvent } from "./event-schema.ts";
export { normalizeEvent } from "./normalize.ts";
export { sampleEvent } from "./sample.ts";
