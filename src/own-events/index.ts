export { aboutRoute } from "./about-route.ts";
export { type FailedDelivery, OwnEvents, type OwnEventsOptions } from "./own-events.ts";
