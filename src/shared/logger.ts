import { type DestinationStream, type Logger, pino } from "pino";

/*
 * The process's one logger (pino, as fastify uses): made once in main.ts and handed to every stage
 * through the gateway's options, so the API's request logs and the workers' errors are the same
 * JSON lines on stderr. Errors that repeat many times a second while Redis is away are logged once
 * a second per stage and kind, with the count of those left out.
 */

export type { Logger };

/** What a stage calls with an error it cannot hand to anyone: logged, never swallowed. */
export type ErrorReport = (err: unknown, context?: Record<string, unknown>) => void;

export function createLogger(level: string, destination: DestinationStream = pino.destination(2)): Logger {
  return pino(
    {
      level,
      // A request's bearer token or session cookie never reaches a log line.
      redact: { paths: ["req.headers.authorization", "req.headers.cookie"], censor: "[redacted]" },
    },
    destination,
  );
}

/** ioredis and the OS say Redis (or its socket) is not there: expected during an outage. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOENT",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
]);
const CONNECTION_MESSAGES = [
  "Connection is closed",
  "Stream isn't writeable",
  "MaxRetriesPerRequestError",
  "Reached the max retries per request limit",
  "connect ECONNREFUSED",
  // A Cluster or Sentinel failover, until the client has found the new primary.
  "CLUSTERDOWN",
  "Too many Cluster redirections",
  "Failed to refresh slots cache",
  "Cluster isn't ready",
  "READONLY",
  "All sentinels are unreachable",
];

/** The kind of a connection error (rate-limited when logged), or null for any other error. */
export function connectionErrorKind(err: unknown): string | null {
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (typeof e?.code === "string" && CONNECTION_CODES.has(e.code)) return e.code;
  const message = typeof e?.message === "string" ? e.message : String(err);
  const known = CONNECTION_MESSAGES.find((m) => message.includes(m));
  if (known) return known;
  return typeof e?.name === "string" && e.name === "MaxRetriesPerRequestError" ? e.name : null;
}

/** Lets one report per key through every `everyMs`, counting those it holds back. */
export class ReportLimit {
  readonly #everyMs: number;
  readonly #last = new Map<string, { at: number; held: number }>();

  constructor(everyMs: number) {
    this.#everyMs = everyMs;
  }

  /** The number held back since the last one let through, or null to hold this one back. */
  take(key: string, now: number): number | null {
    const last = this.#last.get(key);
    if (last && now - last.at < this.#everyMs) {
      last.held++;
      return null;
    }
    this.#last.set(key, { at: now, held: 0 });
    return last?.held ?? 0;
  }
}

/**
 * The error report of one stage: connection errors at warn, once a second per kind; any other
 * error at error, every time, with its stack and the context the stage gives.
 */
export function errorReporter(
  logger: Logger,
  stage: string,
  options: { everyMs?: number; now?: () => number } = {},
): ErrorReport {
  const log = logger.child({ stage });
  const limit = new ReportLimit(options.everyMs ?? 1000);
  const now = options.now ?? Date.now;
  return (err, context = {}) => {
    const kind = connectionErrorKind(err);
    if (kind === null) {
      log.error({ err, ...context }, errorMessage(err));
      return;
    }
    const held = limit.take(kind, now());
    if (held === null) return;
    log.warn({ err, ...context, ...(held > 0 ? { repeated: held } : {}) }, errorMessage(err));
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
