/*
 * Whether Redis has room. With `maxmemory` and noeviction (what BullMQ needs), a full Redis
 * refuses writes: an event accepted then could never be recorded, and an attempt sent then could
 * never be recorded either, so it would be sent again. Ingest stops well before the limit, leaving
 * the rest for walking and recording what was accepted; attempts stop just before it.
 */

/** Redis's answer to a write it has no memory for. */
export function isOutOfMemory(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /\bOOM\b.*maxmemory|^OOM /.test(message);
}

/**
 * Runs a write of what already happened (an attempt made, a walk done) again while Redis refuses
 * it for memory, up to `maxWaitMs`: given up, the work would be done again (sent twice).
 */
export async function retryWhileFull<T>(
  write: () => Promise<T>,
  maxWaitMs = 60_000,
  stepMs = 250,
): Promise<T> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    try {
      return await write();
    } catch (err) {
      if (!isOutOfMemory(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}

export interface MemoryReading {
  usedBytes: number;
  /** 0: no limit. */
  maxBytes: number;
}

/** used_memory and maxmemory from the text of INFO memory. */
export function parseMemoryInfo(info: string): MemoryReading {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? 0);
  return { usedBytes: field("used_memory"), maxBytes: field("maxmemory") };
}

export interface StorageThresholds {
  /** Above this share of maxmemory, new events are refused (503 HG_ERR_STORAGE_FULL). */
  ingestMaxRatio: number;
  /** Above this share, no attempt is sent (its record could not be written). */
  sendMaxRatio: number;
}

export interface StorageVerdict {
  acceptsEvents: boolean;
  sends: boolean;
  usedRatio: number;
}

export function storageVerdict(
  m: MemoryReading,
  t: StorageThresholds,
  refusedRecently: boolean,
): StorageVerdict {
  const usedRatio = m.maxBytes > 0 ? m.usedBytes / m.maxBytes : 0;
  return {
    acceptsEvents: !refusedRecently && usedRatio < t.ingestMaxRatio,
    sends: !refusedRecently && usedRatio < t.sendMaxRatio,
    usedRatio,
  };
}

/** How long a write Redis refused for memory counts as "full" without a reading that says otherwise. */
const REFUSAL_HOLD_MS = 2_000;

/**
 * Reads Redis's memory every `intervalMs` and answers from the last reading (no round trip per call).
 * `readInfo` answers INFO memory of the server that holds the gateway's keys (with Redis Cluster,
 * the primary of their slot, not any node).
 */
export class StorageGuard {
  readonly #readInfo: () => Promise<string>;
  readonly #thresholds: StorageThresholds;
  readonly #intervalMs: number;
  #reading: MemoryReading = { usedBytes: 0, maxBytes: 0 };
  #refusedAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | null = null;

  constructor(readInfo: () => Promise<string>, thresholds: StorageThresholds, intervalMs = 500) {
    this.#readInfo = readInfo;
    this.#thresholds = thresholds;
    this.#intervalMs = intervalMs;
  }

  async start(): Promise<void> {
    await this.sample();
    this.#timer = setInterval(() => void this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  async sample(): Promise<void> {
    try {
      this.#reading = parseMemoryInfo(await this.#readInfo());
    } catch {
      // Redis away: readiness says so through its own ping; keep the last reading.
    }
  }

  /** Told of an error from a write: a refusal for memory counts as full until a reading clears it. */
  noteError(err: unknown): void {
    if (isOutOfMemory(err)) this.#refusedAt = Date.now();
  }

  verdict(now = Date.now()): StorageVerdict {
    return storageVerdict(this.#reading, this.#thresholds, now - this.#refusedAt < REFUSAL_HOLD_MS);
  }
}
