/** Prometheus metrics of one gateway (GET /metrics). See metrics.ts. */
export {
  type AttemptObservation,
  type DeferLabel,
  Metrics,
  type MetricsOptions,
} from "./metrics.ts";
export {
  type EventStreamSource,
  eventStreamOf,
  type QueueDepthSource,
  type SandboxSource,
} from "./sources.ts";
