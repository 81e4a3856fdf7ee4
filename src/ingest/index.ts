export { type Accepted, EventIntake } from "./event-intake.ts";
