export { BatchBuffer, type BatchItem, batchBody } from "./batch-buffer.ts";
export {
  DELIVER_JOB_NAME,
  DeliverJobSchema,
  type DeliveryJob,
  deliveryJobId,
  FLUSH_JOB_NAME,
  type FlushJob,
  retryJobId,
} from "./delivery-job.ts";
export { type DeliverRequest, DeliveryQueue } from "./delivery-queue.ts";
export { type BatchSettings, DeliveryScheduler } from "./delivery-scheduler.ts";
export { DeliveryWorker, type DeliveryWorkerOptions } from "./delivery-worker.ts";
export { FifoLanes, streamOrder } from "./fifo-lane.ts";
export { promoteWaiting } from "./target-waiters.ts";
