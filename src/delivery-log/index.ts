export { DeliveryLog, type ListQuery } from "./delivery-log.ts";
export {
  type AttemptRecord,
  type Delivery,
  DeliveryOutSchema,
  type DeliveryStatus,
  DeliveryStatusSchema,
  type NewDelivery,
} from "./delivery-record.ts";
