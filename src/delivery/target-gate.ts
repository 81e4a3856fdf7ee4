import type { DeferReason } from "./defer-reason.ts";
import { type BreakerView, breakerAt, rateShape, spread } from "./target-policy.ts";
import type { TargetState } from "./target-state.ts";

/*
 * Decides, before an attempt, whether a target may be called now, so that one slow or failing
 * endpoint never holds the worker's shared lanes: requests in flight per target (this process),
 * the target's circuit breaker (shared, cached here from the last answer Redis gave, and asked
 * again before it refuses anything, so a resume in any process is seen at once), its rate
 * limit and any pause it asked for (shared, in Redis, asked only when the route has a limit or
 * the target was paused). A refused attempt is deferred (the job goes back to the delayed set
 * without counting as an attempt) and its lane is freed.
 */

export type Admission =
  | { ok: true; release: () => void }
  | { ok: false; waitMs: number; code: DeferReason; reason: string };

export interface GateRequest {
  target: string;
  maxConcurrency: number;
  /** Requests per second, or null. */
  rateLimit: number | null;
  /** How long a probe may take before another worker may probe (the route's timeout). */
  probeHoldMs: number;
  now: number;
  /**
   * The request is one of a bundle already in memory: while the target's lanes keep moving it
   * waits for one however many others wait (no trip back to the queue for a busy fast target);
   * a target that has taken or freed none for a second gets it handed back at once, so a hung target never
   * holds the bundle's other deliveries.
   */
  patient?: boolean;
}

/**
 * A request to a full target first waits here for a lane, up to this long, and only if no more
 * requests wait than the target has lanes: a fast target then never pays for a round trip to the
 * delayed set, and a hung one holds at most twice its lanes of the worker, briefly.
 */
const LOCAL_WAIT_MS = 1000;
/** A target that took or freed a lane this recently is moving: worth waiting for. */
const MOVING_MS = 1000;
/** How long a deferred request stays in the delayed set before it asks again. */
const BUSY_DEFER_MS = 200;
const PROBE_WAIT_MS = 1000;

export class TargetGate {
  readonly #state: TargetState;
  readonly #inFlight = new Map<string, number>();
  /** Requests waiting for a lane of a full target, first come first served. */
  readonly #waiting = new Map<string, (() => void)[]>();
  /** When a lane of each target was last taken or freed: it is moving while that is recent. */
  readonly #lastMoved = new Map<string, number>();
  readonly #breakers = new Map<string, BreakerView>();
  /** Targets some worker was told to pause: asked in Redis until a pause is seen to be over. */
  readonly #paused = new Set<string>();
  /**
   * The clock of the requests' `now`, read where no request is at hand (a lane freed, a waiter's
   * timer), so a lane's last movement is always measured on one clock.
   */
  readonly #clock: () => number;

  constructor(state: TargetState, clock: () => number = Date.now) {
    this.#state = state;
    this.#clock = clock;
  }

  async admit(r: GateRequest): Promise<Admission> {
    const held = this.#inFlight.get(r.target) ?? 0;
    if (held >= r.maxConcurrency) {
      // A lane handed over by #release is already counted as ours.
      const moving = r.now - (this.#lastMoved.get(r.target) ?? 0) < MOVING_MS;
      const maxWaiting = r.patient ? (moving ? Number.POSITIVE_INFINITY : 0) : r.maxConcurrency;
      if (!(await this.#waitForLane(r.target, maxWaiting, r.patient === true))) {
        return {
          ok: false,
          waitMs: spread(BUSY_DEFER_MS),
          code: "in_flight",
          reason: `${held} requests in flight to this target`,
        };
      }
    } else {
      // Counted before any await so concurrent admissions in this process see it.
      this.#inFlight.set(r.target, held + 1);
      this.#lastMoved.set(r.target, r.now);
    }
    const release = () => this.#release(r.target);
    const refuse = (waitMs: number, code: DeferReason, reason: string): Admission => {
      release();
      return { ok: false, waitMs: spread(waitMs), code, reason };
    };
    try {
      const breaker = await this.#breakerFor(r.target);
      const state = breaker ? breakerAt(breaker, r.now) : "closed";
      if (breaker && state === "open")
        return refuse(breaker.openUntil - r.now, "breaker_open", "circuit breaker open");
      if (state === "half-open" && !(await this.#state.claimProbe(r.target, r.probeHoldMs))) {
        return refuse(PROBE_WAIT_MS, "breaker_probing", "circuit breaker half-open: probing");
      }
      if (r.rateLimit !== null || this.#paused.has(r.target)) {
        const waitMs = await this.#state.admit(r.target, r.rateLimit ? rateShape(r.rateLimit) : null, r.now);
        if (waitMs > 0) return refuse(waitMs, "rate_limited", "rate limited");
        if (r.rateLimit === null) this.#paused.delete(r.target);
      }
    } catch (err) {
      release();
      throw err;
    }
    return { ok: true, release };
  }

  /**
   * The breaker as this process last learned it, read again from Redis when it would hold the
   * request back: another process may have closed it since (a probe's success, an operator's
   * resume). That read costs a round trip only while this process believes the target is in
   * trouble; a healthy target's admissions never ask.
   */
  async #breakerFor(target: string): Promise<BreakerView | undefined> {
    const cached = this.#breakers.get(target);
    if (!cached || cached.state === "closed") return cached;
    this.remember(target, await this.#state.view(target));
    return this.#breakers.get(target);
  }

  /** Waits for a lane of a full target; false when too many wait already or none freed in time. */
  #waitForLane(target: string, maxWaiting: number, patient: boolean): Promise<boolean> {
    const queue = this.#waiting.get(target) ?? [];
    if (queue.length >= maxWaiting) return Promise.resolve(false);
    this.#waiting.set(target, queue);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const take = () => {
        clearTimeout(timer);
        resolve(true);
      };
      // A patient waiter keeps its place while the target keeps moving: sending it back to the
      // queue would only cost a round trip and lose its place. It leaves once the target stalls.
      const expire = () => {
        if (patient && this.#clock() - (this.#lastMoved.get(target) ?? 0) < MOVING_MS) {
          timer = setTimeout(expire, MOVING_MS);
          return;
        }
        const i = queue.indexOf(take);
        if (i >= 0) queue.splice(i, 1);
        if (queue.length === 0) this.#waiting.delete(target);
        resolve(false);
      };
      timer = setTimeout(expire, LOCAL_WAIT_MS);
      queue.push(take);
    });
  }

  /** Frees a lane: straight to the first waiter if there is one (the count stays), else counted down. */
  #release(target: string): void {
    this.#lastMoved.set(target, this.#clock());
    const queue = this.#waiting.get(target);
    const next = queue?.shift();
    if (queue && queue.length === 0) this.#waiting.delete(target);
    if (next) {
      next();
      return;
    }
    const n = (this.#inFlight.get(target) ?? 1) - 1;
    if (n <= 0) this.#inFlight.delete(target);
    else this.#inFlight.set(target, n);
  }

  /** What Redis answered after an attempt: the breaker for the next admissions here. */
  remember(target: string, view: BreakerView): void {
    if (view.state === "closed" && view.failingSince === null) this.#breakers.delete(target);
    else this.#breakers.set(target, view);
  }

  /** The breaker as this process last learned it (undefined: no trouble known). */
  breakerKnown(target: string): BreakerView | undefined {
    return this.#breakers.get(target);
  }

  /** Whether a success needs reporting (the breaker here knows of failures to clear). */
  knowsTrouble(target: string): boolean {
    return this.#breakers.has(target);
  }

  markPaused(target: string): void {
    this.#paused.add(target);
  }

  /** Requests to a target in flight from this process, and those waiting here for a lane. */
  lanes(target: string): { inFlight: number; waiting: number } {
    return { inFlight: this.#inFlight.get(target) ?? 0, waiting: this.#waiting.get(target)?.length ?? 0 };
  }
}
