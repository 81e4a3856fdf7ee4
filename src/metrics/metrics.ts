import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { AttemptDecision, AttemptErrorCode, BreakerState, DeferReason } from "../delivery/index.ts";
import type { RouteWalk } from "../walk/index.ts";
import { LabelLimit } from "./label-limit.ts";
import type { EventStreamSource, QueueDepthSource, SandboxSource } from "./sources.ts";
import { observeWalk } from "./walk-outcomes.ts";

/*
 * The gateway's Prometheus metrics. Each gateway has its own Registry (several gateways in one
 * test process must not share counters); counters and histograms are fed by named methods from
 * the stages, gauges of state held elsewhere (queue depths, the events stream, isolates) are read
 * from their sources when Prometheus scrapes. Names follow Prometheus conventions: base units
 * (seconds, bytes), `_total` for counters.
 */

/** The values of the deferrals' `reason` label: a few, for dashboards. */
export type DeferLabel = "concurrency" | "breaker" | "rate_limit" | "fifo" | "other";

const DEFER_LABEL: Record<DeferReason, DeferLabel> = {
  in_flight: "concurrency",
  breaker_open: "breaker",
  breaker_probing: "breaker",
  rate_limited: "rate_limit",
  fifo_turn: "fifo",
  storage_full: "other",
  route_turned_on: "other",
};

export interface AttemptObservation {
  routeId: string;
  /** The retry policy's decision. */
  outcome: AttemptDecision["kind"];
  /** The receiver's status, or null when there was no answer. */
  statusCode: number | null;
  /** E_TIMEOUT, E_CONNECTION_REFUSED, … when there was no answer. */
  errorCode: AttemptErrorCode | null;
  durationMs: number;
}

export interface MetricsOptions {
  /** Distinct values kept per user-fed label (event type, route id, target); default 1000. */
  maxLabelValues?: number;
  /** Node's process metrics (CPU, memory, event loop lag, GC); default true. */
  processMetrics?: boolean;
  /** How long a scrape waits for Redis before leaving a gauge out; default 2000. */
  collectTimeoutMs?: number;
}

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, "half-open": 1, open: 2 };
// BullMQ 6 has no paused state: the jobs of a paused queue count as waiting.
const QUEUE_STATES = ["waiting", "active", "delayed", "prioritized", "waiting-children", "failed"];

const FAST_BUCKETS_S = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];
const HTTP_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

function statusClass(statusCode: number | null, errorCode: AttemptErrorCode | null): string {
  if (errorCode) return errorCode;
  if (statusCode === null) return "no_answer";
  return `${Math.floor(statusCode / 100)}xx`;
}

/** Resolves to undefined instead of waiting past `ms` (BullMQ's connection waits for Redis forever). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

export class Metrics {
  readonly registry = new Registry();
  readonly #types: LabelLimit;
  readonly #routes: LabelLimit;
  readonly #targets: LabelLimit;
  readonly #timeoutMs: number;
  #queue: QueueDepthSource | null = null;
  #stream: EventStreamSource | null = null;
  #sandbox: SandboxSource | null = null;

  readonly #eventsReceived: Counter<"source" | "type">;
  readonly #eventsDuplicate: Counter<"source">;
  readonly #ingestRejected: Counter<"source" | "code">;
  readonly #walks: Counter;
  readonly #walkDuration: Histogram;
  readonly #routeWalks: Counter<"route_id" | "outcome">;
  readonly #functionCalls: Counter<"step" | "outcome">;
  readonly #functionDuration: Histogram<"step">;
  readonly #deliveriesQueued: Counter<"route_id">;
  readonly #attempts: Counter<"route_id" | "outcome">;
  readonly #attemptResults: Counter<"result">;
  readonly #attemptDuration: Histogram<"outcome">;
  readonly #deliveriesFinished: Counter<"route_id" | "status">;
  readonly #deferred: Counter<"reason">;
  readonly #breaker: Gauge<"target">;
  readonly #httpRequests: Counter<"method" | "route" | "status_code">;
  readonly #httpDuration: Histogram<"method" | "route">;

  constructor(options: MetricsOptions = {}) {
    const max = options.maxLabelValues ?? 1000;
    this.#types = new LabelLimit(max);
    this.#routes = new LabelLimit(max);
    this.#targets = new LabelLimit(max);
    this.#timeoutMs = options.collectTimeoutMs ?? 2000;
    const registers = [this.registry];
    const self = this;

    this.#eventsReceived = new Counter({
      name: "hookgate_events_received_total",
      help: "Events accepted and stored, by source kind (api for POST /v1/events) and event type",
      labelNames: ["source", "type"],
      registers,
    });
    this.#eventsDuplicate = new Counter({
      name: "hookgate_events_duplicate_total",
      help: "Events answered as duplicates (id seen within the dedup window) and not stored again",
      labelNames: ["source"],
      registers,
    });
    this.#ingestRejected = new Counter({
      name: "hookgate_ingest_rejected_total",
      help: "Webhook requests refused at /v1/ingest, by source kind and error code",
      labelNames: ["source", "code"],
      registers,
    });
    this.#walks = new Counter({
      name: "hookgate_walks_total",
      help: "Events walked over the routes",
      registers,
    });
    this.#walkDuration = new Histogram({
      name: "hookgate_walk_duration_seconds",
      help: "Time to walk one event over the routes (filters, maps and templates)",
      buckets: FAST_BUCKETS_S,
      registers,
    });
    this.#routeWalks = new Counter({
      name: "hookgate_route_walks_total",
      help: "Routes evaluated for an event, by route and outcome (fired, filtered_out, error, skipped)",
      labelNames: ["route_id", "outcome"],
      registers,
    });
    this.#functionCalls = new Counter({
      name: "hookgate_function_calls_total",
      help: "Filter and map calls by outcome (passed, rejected, ok, timeout, memory, throw, syntax, output, crashed)",
      labelNames: ["step", "outcome"],
      registers,
    });
    this.#functionDuration = new Histogram({
      name: "hookgate_function_duration_seconds",
      help: "Duration of one filter or map call in its isolate",
      labelNames: ["step"],
      buckets: FAST_BUCKETS_S,
      registers,
    });
    this.#deliveriesQueued = new Counter({
      name: "hookgate_deliveries_queued_total",
      help: "Deliveries recorded and queued by the walkers, by route",
      labelNames: ["route_id"],
      registers,
    });
    this.#attempts = new Counter({
      name: "hookgate_delivery_attempts_total",
      help: "Delivery attempts by route and outcome (delivered, retry, failed)",
      labelNames: ["route_id", "outcome"],
      registers,
    });
    this.#attemptResults = new Counter({
      name: "hookgate_delivery_attempt_results_total",
      help: "Delivery attempts by answer: status class (2xx, 4xx, …) or error code (E_TIMEOUT, …)",
      labelNames: ["result"],
      registers,
    });
    this.#attemptDuration = new Histogram({
      name: "hookgate_delivery_attempt_duration_seconds",
      help: "Duration of one delivery attempt (request sent to answer read), by outcome",
      labelNames: ["outcome"],
      buckets: HTTP_BUCKETS_S,
      registers,
    });
    this.#deliveriesFinished = new Counter({
      name: "hookgate_deliveries_finished_total",
      help: "Deliveries that reached a final status (succeeded, failed), by route",
      labelNames: ["route_id", "status"],
      registers,
    });
    this.#deferred = new Counter({
      name: "hookgate_delivery_deferrals_total",
      help: "Attempts put off before sending, by reason (concurrency, breaker, rate_limit, fifo, other)",
      labelNames: ["reason"],
      registers,
    });
    this.#breaker = new Gauge({
      name: "hookgate_circuit_breaker_state",
      help: "Circuit breaker of a target endpoint as this worker last saw it: 0 closed, 1 half-open, 2 open",
      labelNames: ["target"],
      registers,
    });
    this.#httpRequests = new Counter({
      name: "hookgate_http_requests_total",
      help: "HTTP requests answered by the API, by method, route pattern and status code",
      labelNames: ["method", "route", "status_code"],
      registers,
    });
    this.#httpDuration = new Histogram({
      name: "hookgate_http_request_duration_seconds",
      help: "Time to answer an HTTP request, by method and route pattern",
      labelNames: ["method", "route"],
      buckets: HTTP_BUCKETS_S,
      registers,
    });

    new Gauge({
      name: "hookgate_queue_jobs",
      help: "Delivery jobs in the BullMQ queue by state (all processes; read from Redis on scrape)",
      labelNames: ["state"],
      registers,
      async collect() {
        this.reset();
        const counts =
          self.#queue && (await within(self.#queue.getJobCounts(...QUEUE_STATES), self.#timeoutMs));
        if (!counts) return;
        for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
    new Gauge({
      name: "hookgate_events_stream_length",
      help: "Accepted events in the Redis stream not yet walked (all processes)",
      registers,
      async collect() {
        const n = self.#stream && (await within(self.#stream.length(), self.#timeoutMs));
        // An unlabelled gauge cannot be left out: NaN says "unknown" where 0 would say "empty".
        this.set(typeof n === "number" ? n : Number.NaN);
      },
    });
    new Gauge({
      name: "hookgate_events_pending",
      help: "Events read by a walker and not yet acknowledged (all processes)",
      registers,
      async collect() {
        const n = self.#stream && (await within(self.#stream.pending(), self.#timeoutMs));
        this.set(typeof n === "number" ? n : Number.NaN);
      },
    });
    const heapGauge = (name: string, help: string, read: (s: SandboxSource) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(self.#sandbox ? read(self.#sandbox) : Number.NaN);
        },
      });
    heapGauge(
      "hookgate_sandbox_isolates",
      "Live route isolates (one per route version)",
      (s) => s.stats().isolates,
    );
    heapGauge(
      "hookgate_sandbox_heap_used_bytes",
      "V8 heap used, summed over the live route isolates",
      (s) => s.heapStatistics().usedHeapBytes,
    );
    heapGauge(
      "hookgate_sandbox_heap_total_bytes",
      "V8 heap allocated, summed over the live route isolates",
      (s) => s.heapStatistics().totalHeapBytes,
    );
    heapGauge(
      "hookgate_sandbox_external_bytes",
      "Memory outside the V8 heaps held by the live route isolates",
      (s) => s.heapStatistics().externalBytes,
    );
    heapGauge(
      "hookgate_sandbox_heap_limit_bytes",
      "Heap limits summed over the live route isolates",
      (s) => s.heapStatistics().heapLimitBytes,
    );
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text for a scrape (gauges are read from their sources now). */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  watchQueue(queue: QueueDepthSource): void {
    this.#queue = queue;
  }

  watchEventStream(stream: EventStreamSource): void {
    this.#stream = stream;
  }

  watchSandbox(sandbox: SandboxSource): void {
    this.#sandbox = sandbox;
  }

  /** Events stored by POST /v1/events ("api") or /v1/ingest (the source's kind). */
  eventsAccepted(
    source: string,
    events: readonly { type: string }[],
    results: readonly { duplicate: boolean }[],
  ): void {
    events.forEach((event, i) => {
      if (results[i]?.duplicate) this.#eventsDuplicate.inc({ source });
      else this.#eventsReceived.inc({ source, type: this.#types.value(event.type) });
    });
  }

  ingestRejected(source: string, code: string): void {
    this.#ingestRejected.inc({ source, code });
  }

  /** One event walked by a walker (not the dry-run). */
  walked(walks: readonly RouteWalk[], durationMs: number): void {
    this.#walks.inc();
    this.#walkDuration.observe(durationMs / 1000);
    for (const route of observeWalk(walks)) {
      this.#routeWalks.inc({ route_id: this.#routes.value(route.routeId), outcome: route.outcome });
      for (const step of route.steps) {
        this.#functionCalls.inc({ step: step.step, outcome: step.outcome });
        this.#functionDuration.observe({ step: step.step }, step.durationMs / 1000);
      }
    }
  }

  deliveriesQueued(routeIds: readonly string[]): void {
    for (const id of routeIds) this.#deliveriesQueued.inc({ route_id: this.#routes.value(id) });
  }

  /** One attempt made by the delivery worker, with the retry policy's decision. */
  attempt(o: AttemptObservation): void {
    const route_id = this.#routes.value(o.routeId);
    this.#attempts.inc({ route_id, outcome: o.outcome });
    this.#attemptResults.inc({ result: statusClass(o.statusCode, o.errorCode) });
    this.#attemptDuration.observe({ outcome: o.outcome }, o.durationMs / 1000);
    if (o.outcome !== "retry") {
      this.#deliveriesFinished.inc({ route_id, status: o.outcome === "delivered" ? "succeeded" : "failed" });
    }
  }

  /** A delivery that failed without an attempt (route deleted or disabled, the walk failed). */
  deliveryFailed(routeId: string): void {
    this.#deliveriesFinished.inc({ route_id: this.#routes.value(routeId), status: "failed" });
  }

  /** An attempt put off without being made, with the reason where that was decided. */
  deferred(reason: DeferReason): void {
    this.#deferred.inc({ reason: DEFER_LABEL[reason] });
  }

  /** `target` is the breaker's key (delivery's targetKeyOf: a hash of the endpoint, no secrets). */
  setBreakerState(target: string, state: BreakerState): void {
    this.#breaker.set({ target: this.#targets.value(target) }, BREAKER_VALUE[state]);
  }

  httpRequest(method: string, route: string, statusCode: number, durationMs: number): void {
    this.#httpRequests.inc({ method, route, status_code: String(statusCode) });
    this.#httpDuration.observe({ method, route }, durationMs / 1000);
  }
}
