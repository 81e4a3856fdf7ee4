export { DeliveryLog } from "./delivery-log.ts";
export type { ListQuery } from "./delivery-queries.ts";
export {
  type AttemptRecord,
  type CreateResult,
  type Delivery,
  DeliveryOutSchema,
  type DeliveryStatus,
  DeliveryStatusSchema,
  type FirstAttempt,
  type NewDelivery,
} from "./delivery-record.ts";
