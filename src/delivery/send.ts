import { performance } from "node:perf_hooks";
import { type Dispatcher, request } from "undici";
import { type AttemptErrorCode, classifyAttemptError } from "./attempt-error.ts";
import type { OutgoingRequest } from "./build-request.ts";

/*
 * One HTTP attempt. Inputs: the built request, the route's timeout (covering connect, headers and
 * body), the dispatcher (the SSRF-guarded agent). Output: an AttemptResult, never a throw.
 * Redirects are not followed (3xx comes back as an answer); at most `excerptBytes` of the
 * response body are read, the rest is discarded with the connection kept when possible.
 */

export interface AttemptResult {
  statusCode: number | null;
  errorCode: AttemptErrorCode | null;
  errorMessage: string | null;
  durationMs: number;
  responseExcerpt: string;
  /** Raw `Retry-After` header, for the retry policy to read. */
  retryAfter: string | null;
  /** Bucket headers (Discord's X-RateLimit-*), for pausing the whole target. */
  rateLimit: { remaining: string | null; resetAfter: string | null };
}

const NO_RATE_LIMIT = { remaining: null, resetAfter: null } as const;

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | null {
  const value = headers[name];
  return typeof value === "string" ? value : null;
}

export interface SendOptions {
  dispatcher: Dispatcher;
  timeoutMs: number;
  excerptBytes: number;
}

/** The first `limit` bytes of a response body, kept as they arrive so a body cut off still shows them. */
class Excerpt {
  readonly #chunks: Buffer[] = [];
  readonly #limit: number;
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(chunk: Buffer): void {
    if (this.#size >= this.#limit) return;
    const part = chunk.subarray(0, this.#limit - this.#size);
    this.#chunks.push(part);
    this.#size += part.length;
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString("utf8");
  }
}

export async function sendRequest(req: OutgoingRequest, options: SendOptions): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  let phase: "headers" | "body" = "headers";
  let statusCode: number | null = null;
  const signal = AbortSignal.timeout(options.timeoutMs);
  const excerpt = new Excerpt(options.excerptBytes);
  try {
    const res = await request(req.url, {
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers,
      body: req.body,
      dispatcher: options.dispatcher,
      signal,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    phase = "body";
    statusCode = res.statusCode;
    // Read to the end (past the excerpt) so the connection can be reused.
    for await (const chunk of res.body as AsyncIterable<Buffer>) excerpt.add(chunk);
    return {
      statusCode: res.statusCode,
      errorCode: null,
      errorMessage: null,
      durationMs: elapsed(),
      responseExcerpt: excerpt.text(),
      retryAfter: headerOf(res.headers, "retry-after"),
      rateLimit: {
        remaining: headerOf(res.headers, "x-ratelimit-remaining"),
        resetAfter: headerOf(res.headers, "x-ratelimit-reset-after"),
      },
    };
  } catch (err) {
    // A status followed by a body that never finishes is kept, with the part of the body that
    // came: the receiver did answer, too slowly, and what it said is the clue to why.
    return {
      statusCode,
      errorCode: classifyAttemptError(err, phase),
      errorMessage: err instanceof Error ? err.message : String(err),
      durationMs: elapsed(),
      responseExcerpt: excerpt.text(),
      retryAfter: null,
      rateLimit: NO_RATE_LIMIT,
    };
  }
}
