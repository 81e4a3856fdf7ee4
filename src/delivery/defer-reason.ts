/**
 * Why an attempt was put off without being made, named where the deferral is decided and carried
 * as is to whoever counts it (the metrics' `reason` label). The words that go with it are for logs.
 */
export type DeferReason =
  /** TargetGate: the target's lanes in this process are all taken. */
  | "in_flight"
  /** TargetGate: the target's circuit breaker is open. */
  | "breaker_open"
  /** TargetGate: the breaker is half-open and another attempt is the probe. */
  | "breaker_probing"
  /** TargetGate: the route's rate limit, or a pause the target asked for. */
  | "rate_limited"
  /** AttemptRunner: Redis has no room to record the attempt. */
  | "storage_full"
  /** DeliveryWorker: a FIFO delivery whose turn has not come. */
  | "fifo_turn"
  /** DeliveryWorker: its route was turned on again since the delivery was read. */
  | "route_turned_on";
