export { DeliveryLog, type ListQuery } from "./delivery-log.ts";
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
