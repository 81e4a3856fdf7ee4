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

async function readExcerpt(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) {
      chunks.push(chunk.subarray(0, limit - size));
      size += Math.min(chunk.length, limit - size);
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function sendRequest(req: OutgoingRequest, options: SendOptions): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  let phase: "headers" | "body" = "headers";
  let statusCode: number | null = null;
  const signal = AbortSignal.timeout(options.timeoutMs);
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
    const excerpt = await readExcerpt(res.body, options.excerptBytes);
    return {
      statusCode: res.statusCode,
      errorCode: null,
      errorMessage: null,
      durationMs: elapsed(),
      responseExcerpt: excerpt,
      retryAfter: headerOf(res.headers, "retry-after"),
      rateLimit: {
        remaining: headerOf(res.headers, "x-ratelimit-remaining"),
        resetAfter: headerOf(res.headers, "x-ratelimit-reset-after"),
      },
    };
  } catch (err) {
    // A status followed by a body that never finishes is kept: the receiver did answer, too slowly.
    return {
      statusCode,
      errorCode: classifyAttemptError(err, phase),
      errorMessage: err instanceof Error ? err.message : String(err),
      durationMs: elapsed(),
      responseExcerpt: "",
      retryAfter: null,
      rateLimit: NO_RATE_LIMIT,
    };
  }
}
