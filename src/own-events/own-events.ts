import { createHash, randomUUID } from "node:crypto";
import type { BreakerView } from "../delivery/index.ts";
import { type HookgateEvent, isOwnType, OWN_SOURCE, type OwnEventType } from "../events/index.ts";
import type { Route } from "../routing/index.ts";

/*
 * Hookgate's own events (hookgate.route.disabled, hookgate.target.breaker_opened, ...), accepted
 * into the events stream like any event, so users route them with the same routes, filters and
 * templates. Each is emitted from where it happens through one small call here, never awaited by
 * the caller and never throwing into it: news of trouble must not add to it.
 *
 * Ids are made from what the event is about (a route's version, a target's failing streak, a
 * delivery's attempt count, a minute), so several processes seeing the same thing emit one event:
 * the intake's dedup drops the copies.
 */

export interface OwnEventsOptions {
  now?: () => number;
  onError?: (err: unknown) => void;
  /** How often the rejection counts of minutes that are over are emitted (ms). */
  flushEveryMs?: number;
}

export interface FailedDelivery {
  id: string;
  routeId: string;
  routeVersion: number;
  eventId: string;
  eventType: string;
  attempts: number;
  error: { code: string; message: string } | null;
}

interface RejectionCount {
  sourceKind: string;
  minute: number;
  count: number;
  codes: Record<string, number>;
}

const MINUTE_MS = 60_000;

export class OwnEvents {
  readonly #intake: { accept(events: readonly HookgateEvent[]): Promise<unknown> };
  readonly #now: () => number;
  readonly #onError: (err: unknown) => void;
  /** Rejections per source in the current minute of this process (summarised, not one each). */
  readonly #rejections = new Map<string, RejectionCount>();
  /** Each process counts its own rejections, so its summaries need ids of their own. */
  readonly #process = randomUUID();
  readonly #pending = new Set<Promise<void>>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    intake: { accept(events: readonly HookgateEvent[]): Promise<unknown> },
    o: OwnEventsOptions = {},
  ) {
    this.#intake = intake;
    this.#now = o.now ?? Date.now;
    this.#onError = o.onError ?? (() => {});
    this.#timer = setInterval(() => this.flushRejections(), o.flushEveryMs ?? 10_000);
    this.#timer.unref();
  }

  /** A route turned off by Hookgate itself (`by` null: the reason names the answer) or by a key. */
  routeDisabled(route: Route, reason: string | null, by: { keyId: string | null } | null): void {
    this.#emit("hookgate.route.disabled", [route.id, route.version], {
      routeId: route.id,
      routeName: route.name,
      routeVersion: route.version,
      reason,
      by: by ? "api" : "hookgate",
      keyId: by?.keyId ?? null,
    });
  }

  /** A route turned on or off through the API (PATCH enabled). */
  routeSwitched(before: Route, after: Route, by: { keyId: string | null }): void {
    if (before.enabled === after.enabled) return;
    if (!after.enabled) {
      this.routeDisabled(after, null, by);
      return;
    }
    this.#emit("hookgate.route.enabled", [after.id, after.version], {
      routeId: after.id,
      routeName: after.name,
      routeVersion: after.version,
      keyId: by.keyId,
      previousReason: before.disabledReason,
    });
  }

  /**
   * What an answer did to a target's breaker: opened (once per failing streak, however many
   * processes and probes see it open) or closed again (`before` is this process's last view).
   */
  breakerChanged(
    target: string,
    before: BreakerView | undefined,
    after: BreakerView,
    answer: { statusCode: number | null; errorCode: string | null },
  ): void {
    if (after.state === "open" && after.failingSince !== null) {
      this.#emit("hookgate.target.breaker_opened", [target, after.failingSince], {
        target,
        failingSince: new Date(after.failingSince).toISOString(),
        openUntil: new Date(after.openUntil).toISOString(),
        statusCode: answer.statusCode,
        errorCode: answer.errorCode,
      });
    } else if (before?.state === "open" && after.state === "closed") {
      this.#emit("hookgate.target.breaker_closed", [target, before.failingSince ?? 0, "closed"], {
        target,
        failingSince: before.failingSince === null ? null : new Date(before.failingSince).toISOString(),
        statusCode: answer.statusCode,
        errorCode: answer.errorCode,
      });
    }
  }

  /** A target asked for a pause (429, Retry-After, a rate limit's reset): one event a minute at most. */
  targetPaused(target: string, untilMs: number, statusCode: number | null): void {
    const now = this.#now();
    this.#emit("hookgate.target.paused", [target, Math.floor(now / MINUTE_MS)], {
      target,
      pausedUntil: new Date(untilMs).toISOString(),
      retryAfterS: Math.max(0, Math.ceil((untilMs - now) / 1000)),
      statusCode,
    });
  }

  /**
   * A delivery that ended failed for good. Not for a delivery of one of our own events: its
   * failure would be news delivered by a route that may fail the same way, again and again.
   */
  deliveryFailed(d: FailedDelivery): void {
    if (isOwnType(d.eventType)) return;
    this.#emit("hookgate.delivery.failed", [d.id, d.attempts], {
      deliveryId: d.id,
      routeId: d.routeId,
      routeVersion: d.routeVersion,
      eventId: d.eventId,
      eventType: d.eventType,
      attempts: d.attempts,
      error: d.error,
    });
  }

  /** A request to a source's ingest URL that failed its authentication: counted for the minute. */
  sourceRejected(sourceId: string, sourceKind: string, code: string): void {
    const minute = Math.floor(this.#now() / MINUTE_MS);
    const bucket = this.#rejections.get(sourceId);
    if (bucket && bucket.minute !== minute) this.#emitRejections(sourceId, bucket);
    const current = bucket && bucket.minute === minute ? bucket : { sourceKind, minute, count: 0, codes: {} };
    current.count++;
    current.codes[code] = (current.codes[code] ?? 0) + 1;
    this.#rejections.set(sourceId, current);
  }

  /** Emits the rejection counts of every minute that is over (`all`: the current one too). */
  flushRejections(all = false): void {
    const minute = Math.floor(this.#now() / MINUTE_MS);
    for (const [sourceId, bucket] of this.#rejections) {
      if (all || bucket.minute < minute) this.#emitRejections(sourceId, bucket);
    }
  }

  /** Every emit begun so far has been stored (or has failed and been reported). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.flushRejections(true);
    await this.settled();
  }

  #emitRejections(sourceId: string, bucket: RejectionCount): void {
    this.#rejections.delete(sourceId);
    this.#emit("hookgate.source.rejected", [sourceId, bucket.minute, this.#process], {
      sourceId,
      sourceKind: bucket.sourceKind,
      minute: new Date(bucket.minute * MINUTE_MS).toISOString(),
      count: bucket.count,
      codes: bucket.codes,
    });
  }

  #emit(type: OwnEventType, about: readonly (string | number)[], data: Record<string, unknown>): void {
    const at = new Date(this.#now()).toISOString();
    const digest = createHash("sha256")
      .update(JSON.stringify([type, ...about]))
      .digest("hex");
    const event: HookgateEvent = {
      id: `evt_hg_${digest.slice(0, 32)}`,
      type,
      source: OWN_SOURCE,
      sourceKind: OWN_SOURCE,
      account: null,
      occurredAt: at,
      receivedAt: at,
      data,
    };
    const p: Promise<void> = this.#intake
      .accept([event])
      .then(() => {})
      .catch((err) => this.#onError(err))
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }
}
