import { type BreakerView, breakerAt, rateShape, spread } from "../delivery/index.ts";
import type { TargetState } from "./target-state.ts";

/*
 * Decides, before an attempt, whether a target may be called now, so that one slow or failing
 * endpoint never holds the worker's shared lanes: requests in flight per target (this process),
 * the target's circuit breaker (shared, cached here from the last answer Redis gave), its rate
 * limit and any pause it asked for (shared, in Redis, asked only when the route has a limit or
 * the target was paused). A refused attempt is deferred (the job goes back to the delayed set
 * without counting as an attempt) and its lane is freed.
 */

export type Admission = { ok: true; release: () => void } | { ok: false; waitMs: number; reason: string };

export interface GateRequest {
  target: string;
  maxConcurrency: number;
  /** Requests per second, or null. */
  rateLimit: number | null;
  /** How long a probe may take before another worker may probe (the route's timeout). */
  probeHoldMs: number;
  now: number;
}

/** How long a deferred request waits for a free lane to its target. */
const BUSY_WAIT_MS = 200;
const PROBE_WAIT_MS = 1000;

export class TargetGate {
  readonly #state: TargetState;
  readonly #inFlight = new Map<string, number>();
  readonly #breakers = new Map<string, BreakerView>();
  /** Targets some worker was told to pause: asked in Redis until a pause is seen to be over. */
  readonly #paused = new Set<string>();

  constructor(state: TargetState) {
    this.#state = state;
  }

  async admit(r: GateRequest): Promise<Admission> {
    const held = this.#inFlight.get(r.target) ?? 0;
    if (held >= r.maxConcurrency) {
      return { ok: false, waitMs: spread(BUSY_WAIT_MS), reason: `${held} requests in flight to this target` };
    }
    const breaker = this.#breakers.get(r.target);
    const state = breaker ? breakerAt(breaker, r.now) : "closed";
    if (breaker && state === "open") {
      return { ok: false, waitMs: spread(breaker.openUntil - r.now), reason: "circuit breaker open" };
    }
    // Counted before any await so concurrent admissions in this process see it.
    this.#inFlight.set(r.target, held + 1);
    const release = () => {
      const n = (this.#inFlight.get(r.target) ?? 1) - 1;
      if (n <= 0) this.#inFlight.delete(r.target);
      else this.#inFlight.set(r.target, n);
    };
    try {
      if (state === "half-open" && !(await this.#state.claimProbe(r.target, r.probeHoldMs))) {
        release();
        return { ok: false, waitMs: spread(PROBE_WAIT_MS), reason: "circuit breaker half-open: probing" };
      }
      if (r.rateLimit !== null || this.#paused.has(r.target)) {
        const waitMs = await this.#state.admit(r.target, r.rateLimit ? rateShape(r.rateLimit) : null, r.now);
        if (waitMs > 0) {
          release();
          return { ok: false, waitMs: spread(waitMs), reason: "rate limited" };
        }
        if (r.rateLimit === null) this.#paused.delete(r.target);
      }
    } catch (err) {
      release();
      throw err;
    }
    return { ok: true, release };
  }

  /** What Redis answered after an attempt: the breaker for the next admissions here. */
  remember(target: string, view: BreakerView): void {
    if (view.state === "closed" && view.failingSince === null) this.#breakers.delete(target);
    else this.#breakers.set(target, view);
  }

  /** Whether a success needs reporting (the breaker here knows of failures to clear). */
  knowsTrouble(target: string): boolean {
    return this.#breakers.has(target);
  }

  markPaused(target: string): void {
    this.#paused.add(target);
  }

  breakerStates(): Map<string, BreakerView> {
    return new Map(this.#breakers);
  }
}
