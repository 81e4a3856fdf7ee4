import type { AttemptOutcome, AttemptRunner } from "../delivery/index.ts";
import type { DeliveryLog, NewDelivery } from "../delivery-log/index.ts";
import type { OwnEvents } from "../own-events/index.ts";
import { type DeliveryScheduler, retryJobId } from "../queue/index.ts";
import type { Route, RouteStore } from "../routing/index.ts";
import type { RouteWalk } from "./walk-event.ts";
import type { DirectAfter, WalkOutcome } from "./walk-outcome.ts";

/*
 * First attempts made from the walk itself, when the target is answering well and a lane is
 * free: the record is then written once, with the attempt, and no queue job is needed (most of
 * the Redis work and the queue hop's latency saved). The event stays pending in the stream until
 * then, so a crash in between means the event is walked again and the delivery queued (at least
 * once: the receiver may see it twice, never zero times). Everything else (a busy or troubled
 * target, FIFO, batches, retries) takes the queue.
 */

/**
 * A first attempt from the walk not answered by then gets its record written (pending, attempt
 * count 0) so the API shows it, and is recorded again when answered.
 */
const SHOW_IN_FLIGHT_MS = 250;

export interface DirectAttemptsOptions {
  runner: AttemptRunner;
  store: Pick<RouteStore, "disable">;
  log: Pick<DeliveryLog, "recordAttempt">;
  scheduler: Pick<DeliveryScheduler, "dispatch" | "later">;
  ownEvents?: Pick<OwnEvents, "deliveryFailed"> | undefined;
  /** Records and queues what a walk left, and acknowledges its stream entry (the walker's commit). */
  commit: (outcome: WalkOutcome) => Promise<void>;
}

export class DirectAttempts {
  readonly #o: DirectAttemptsOptions;

  constructor(options: DirectAttemptsOptions) {
    this.#o = options;
  }

  /**
   * First attempts made now for the deliveries whose target answers well; the rest are
   * committed (and queued) at once. The entry is acknowledged once every record is written: in
   * the common case, with the records of attempts answered quickly, in one call.
   */
  async attemptNow(outcome: WalkOutcome, walks: readonly RouteWalk[]): Promise<void> {
    const { runner, commit } = this.#o;
    const routes = new Map<string, Route>(walks.map((w) => [w.route.route.id, w.route.route]));
    const direct: { d: NewDelivery; route: Route }[] = [];
    const rest: NewDelivery[] = [];
    for (const d of outcome.deliveries) {
      const route = routes.get(d.routeId);
      if (route && !d.error && !d.held && !d.fifo && runner.directOk(route)) direct.push({ d, route });
      else rest.push(d);
    }
    if (direct.length === 0) return commit(outcome);
    const commits: Promise<void>[] = [];
    if (rest.length > 0 || outcome.batched.length > 0)
      commits.push(commit({ streamId: null, deliveries: rest, batched: outcome.batched }));
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), SHOW_IN_FLIGHT_MS);
    });
    const answered: NewDelivery[] = [];
    const after: DirectAfter[] = [];
    // Settled, not all: the entry stays claimed (and renewed) until every attempt is over.
    const results = await Promise.allSettled(
      direct.map(async ({ d, route }) => {
        const attempt = runner.run(route, { ...d, attemptCount: 0 }, { patient: true });
        const out = await Promise.race([attempt, slow]);
        if (out === null) {
          await commit({ streamId: null, deliveries: [d], batched: [], inFlight: true });
          await this.#settleLate(d, await attempt);
          return;
        }
        answered.push(d);
        // Handed back (the target is busy and not moving, or the route was turned off meanwhile):
        // recorded as pending and queued, where the worker sees the route as it is then.
        if (out.kind !== "attempted") return;
        d.firstAttempt = {
          attempt: out.attempt,
          status: out.status,
          nextAttemptAt: out.nextAttemptAt,
          error: out.error,
        };
        after.push({
          deliveryId: d.id,
          routeId: d.routeId,
          retryDelayMs: out.retryDelayMs,
          disableReason: out.disableReason,
        });
      }),
    );
    clearTimeout(timer);
    const failed = results.find((r) => r.status === "rejected");
    // Unexpected (Redis went away): the entry stays pending and is walked again through the queue.
    if (failed) throw failed.reason;
    await Promise.all(commits);
    await commit({ streamId: outcome.streamId, deliveries: answered, batched: [], after });
  }

  /** A first attempt answered after its record was written as pending. */
  async #settleLate(d: NewDelivery, out: AttemptOutcome): Promise<void> {
    const { log, scheduler } = this.#o;
    if (out.kind !== "attempted") return scheduler.dispatch([d]);
    await log.recordAttempt(d.id, out.attempt, out.status, {
      nextAttemptAt: out.nextAttemptAt,
      error: out.error,
    });
    if (out.status === "failed")
      this.#o.ownEvents?.deliveryFailed({ ...d, attempts: out.attempt.n, error: out.error });
    await this.afterAttempt({
      deliveryId: d.id,
      routeId: d.routeId,
      retryDelayMs: out.retryDelayMs,
      disableReason: out.disableReason,
    });
  }

  /** What an attempt from the walk decided, once its record says so: a retry, a disabled route. */
  async afterAttempt(a: DirectAfter): Promise<void> {
    if (a.retryDelayMs !== null)
      await this.#o.scheduler.later(a.deliveryId, a.routeId, a.retryDelayMs, retryJobId(a.deliveryId, 1));
    if (a.disableReason) await this.#o.store.disable(a.routeId, a.disableReason);
  }
}
