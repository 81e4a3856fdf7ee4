export { DELIVER_JOB_NAME, type DeliveryJob, DeliveryJobSchema, deliveryJobId } from "./delivery-job.ts";
export { DeliveryQueue } from "./delivery-queue.ts";
export { DeliveryWorker, type DeliveryWorkerOptions } from "./delivery-worker.ts";
