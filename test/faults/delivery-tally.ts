import type { Sink } from "../helpers/sink.ts";

/**
 * Counts the deliveries of each event at a sink whose route sends the event itself (no map), so
 * every body carries the event id. Reads the sink's requests as they arrive and drops them.
 */
export class DeliveryTally {
  readonly seen = new Map<string, number>();
  readonly #sink: Sink;

  constructor(sink: Sink) {
    this.#sink = sink;
  }

  /** Takes in what the sink received since the last call. */
  update(): this {
    for (const r of this.#sink.requests.splice(0)) {
      const id = (JSON.parse(r.body) as { id: string }).id;
      this.seen.set(id, (this.seen.get(id) ?? 0) + 1);
    }
    return this;
  }

  get deliveries(): number {
    let n = 0;
    for (const c of this.seen.values()) n += c;
    return n;
  }

  /** Deliveries beyond the first of each event. */
  get duplicates(): number {
    return this.deliveries - this.seen.size;
  }

  missing(ids: Iterable<string>): string[] {
    return [...ids].filter((id) => !this.seen.has(id));
  }
}

/**
 * Sends `count` events as batches of 100 from `lanes` concurrent senders, each id once; a batch
 * whose request fails (the gateway is down, or answers other than 202) is sent again after
 * `retryMs`, as a sender's own retries would. Returns the ids the gateway answered 202 for.
 */
export async function sendEvents(options: {
  count: number;
  idPrefix: string;
  post: (batch: unknown[]) => Promise<{ status: number; json: { events?: { id: string }[] } }>;
  lanes?: number;
  retryMs?: number;
  /** Each lane sends at most one batch per `paceMs` (0: as fast as answers come). */
  paceMs?: number;
  /** Called after each accepted batch with the number accepted so far. */
  onAccepted?: (accepted: number) => void;
  /** Called with the status of each refused attempt (0: the request failed). */
  onRefused?: (status: number) => void;
}): Promise<Set<string>> {
  const accepted = new Set<string>();
  let next = 0;
  const lane = async () => {
    while (next < options.count) {
      const from = next;
      const size = Math.min(100, options.count - from);
      next += size;
      const batch = Array.from({ length: size }, (_, k) => ({
        id: `${options.idPrefix}-${from + k}`,
        type: "messageNew",
        data: { n: from + k },
      }));
      for (;;) {
        const started = performance.now();
        const res = await options.post(batch).catch(() => ({ status: 0, json: { events: [] } }));
        if (res.status === 202) {
          for (const e of res.json.events ?? []) accepted.add(e.id);
          options.onAccepted?.(accepted.size);
          const rest = (options.paceMs ?? 0) - (performance.now() - started);
          if (rest > 0) await new Promise((r) => setTimeout(r, rest));
          break;
        }
        options.onRefused?.(res.status);
        await new Promise((r) => setTimeout(r, options.retryMs ?? 100));
      }
    }
  };
  await Promise.all(Array.from({ length: options.lanes ?? 4 }, lane));
  return accepted;
}
