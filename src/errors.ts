/**
 * The one catalog of Hookgate's error codes: every code the API answers with, records on a
 * delivery or an attempt, or prints (the CLI), with where it arises, its HTTP status when the
 * API answers with it, whether the retry policy tries again for an attempt code, and what it
 * means. The strings are API: never rename one. Every HTTP error body is
 * `{"error": {"code", "message", "details"?}}`; its status comes from here, and an API code's
 * description is its default message. Other stages take their code types from here, so a code
 * that is not in the catalog does not type-check; test/unit/errors-catalog.test.ts checks that
 * the README lists every code and that src/ uses none outside it.
 */

/** Where a code arises. */
export type ErrorStage = "api" | "ingest" | "walk" | "sandbox" | "template" | "delivery" | "cli";

export interface ErrorCodeEntry {
  stage: ErrorStage;
  /** One line; for an API code, also its default message. */
  description: string;
  /** API codes: the status of the answer. */
  status?: number;
  /** Attempt codes (no HTTP answer, or no request): whether the retry policy tries again. */
  retryable?: boolean;
}

export const ERROR_CODES = {
  // Answers of the API.
  HG_ERR_VALIDATION: { stage: "api", status: 400, description: "The request is not valid" },
  HG_ERR_BAD_JSON: { stage: "api", status: 400, description: "The body is not valid JSON" },
  HG_ERR_FUNCTION_SYNTAX: { stage: "api", status: 400, description: "The function does not compile" },
  HG_ERR_TEMPLATE_SYNTAX: { stage: "template", status: 400, description: "The template does not compile" },
  HG_ERR_TARGET_BLOCKED: { stage: "delivery", status: 400, description: "The target address is not allowed" },
  HG_ERR_UNSUPPORTED_MEDIA_TYPE: { stage: "api", status: 415, description: "Unsupported content type" },
  HG_ERR_UNAUTHORIZED: { stage: "api", status: 401, description: "Missing or invalid bearer token" },
  HG_ERR_FORBIDDEN: { stage: "api", status: 403, description: "The key lacks the scope this needs" },
  HG_ERR_NOT_FOUND: { stage: "api", status: 404, description: "Not found" },
  HG_ERR_CONFLICT: { stage: "api", status: 409, description: "Conflict" },
  HG_ERR_EVENT_GONE: {
    stage: "walk",
    status: 409,
    description: "The delivery has no body and its event is no longer kept, so it cannot be sent",
  },
  HG_ERR_BODY_TOO_LARGE: {
    stage: "api",
    status: 413,
    description: "The body is larger than the configured limit",
  },
  HG_ERR_REQUEST_TIMEOUT: { stage: "api", status: 408, description: "The request was not received in time" },
  HG_ERR_HEADERS_TOO_LARGE: { stage: "api", status: 431, description: "The request headers are too large" },
  HG_ERR_UNAVAILABLE: {
    stage: "api",
    status: 503,
    description: "Storage is unavailable; nothing was accepted",
  },
  HG_ERR_STORAGE_FULL: {
    stage: "ingest",
    status: 503,
    description: "Redis is out of memory (maxmemory); nothing was accepted, send it again later",
  },
  HG_ERR_SHUTTING_DOWN: {
    stage: "api",
    status: 503,
    description: "The gateway is shutting down; nothing was accepted, send it again",
  },
  HG_ERR_INTERNAL: { stage: "api", status: 500, description: "Internal error" },

  // A route's filter or map failed in the sandbox (recorded on the walk and the delivery).
  HG_ERR_SANDBOX_SYNTAX: {
    stage: "sandbox",
    description: "The function does not compile, or imports a module",
  },
  HG_ERR_SANDBOX_THROW: { stage: "sandbox", description: "The function threw, or could not be loaded" },
  HG_ERR_SANDBOX_TIMEOUT: { stage: "sandbox", description: "The function ran past its time limit" },
  HG_ERR_SANDBOX_MEMORY: { stage: "sandbox", description: "The function went over its memory limit" },
  HG_ERR_SANDBOX_OUTPUT: {
    stage: "sandbox",
    description: "The map's result is not a JSON value within the limits",
  },
  HG_ERR_SANDBOX_CRASHED: {
    stage: "sandbox",
    description: "The sandbox process died while the function ran in it",
  },
  HG_ERR_TEMPLATE_RENDER: {
    stage: "template",
    description: "The template failed to render this event's body",
  },

  // A delivery ended without an attempt.
  HG_ERR_ROUTE_DELETED: { stage: "delivery", description: "The delivery's route was deleted" },
  HG_ERR_ROUTE_DISABLED: { stage: "delivery", description: "The route is turned off and drops its events" },
  HG_ERR_HELD_DROPPED: { stage: "delivery", description: "A held delivery was dropped by request" },
  HG_ERR_NO_BODY: { stage: "delivery", description: "The delivery has no body: its walk failed" },
  HG_ERR_ROUTE_DOES_NOT_TAKE: {
    stage: "walk",
    description: "Walked again, the route's current version no longer takes the event",
  },

  // An attempt that got no HTTP answer, or whose request could not be built.
  E_TIMEOUT: {
    stage: "delivery",
    retryable: true,
    description: "No answer's headers within the route's timeout",
  },
  E_RESPONSE_TOO_SLOW: {
    stage: "delivery",
    retryable: true,
    description: "The answer's body came too slowly",
  },
  E_CONNECTION_REFUSED: {
    stage: "delivery",
    retryable: true,
    description: "The target refused the connection",
  },
  E_CONNECTION_RESET: {
    stage: "delivery",
    retryable: true,
    description: "The connection was reset or closed",
  },
  E_DNS: { stage: "delivery", retryable: true, description: "The target's host name did not resolve" },
  E_TLS: { stage: "delivery", retryable: true, description: "The TLS handshake or certificate failed" },
  E_BLOCKED_ADDRESS: {
    stage: "delivery",
    retryable: false,
    description: "The target resolved to an address the address policy refuses",
  },
  E_NETWORK: { stage: "delivery", retryable: true, description: "Another network error" },
  E_ENV_MISSING: {
    stage: "delivery",
    retryable: true,
    description: "A ${NAME} in a header or credential has no value in the environment",
  },
  E_ENV_INVALID: {
    stage: "delivery",
    retryable: true,
    description: "A ${NAME} resolved to a value that cannot go into a header",
  },
  E_FORM_BODY: {
    stage: "delivery",
    retryable: false,
    description: "target.format is form but the rendered body is not a JSON object",
  },
  // Retried or not by its status (408, 425, 429 and 5xx are; see the retry policy).
  E_HTTP_STATUS: { stage: "delivery", description: "The target answered with a status that is not 2xx" },

  // The CLI's own.
  E_CONNECTION: { stage: "cli", description: "The CLI cannot reach the gateway" },
} as const satisfies Record<string, ErrorCodeEntry>;

export type CatalogCode = keyof typeof ERROR_CODES;
type Entry<K extends CatalogCode> = (typeof ERROR_CODES)[K];
/** The catalog's codes whose entry has the shape P. */
type CodesWhere<P> = { [K in CatalogCode]: Entry<K> extends P ? K : never }[CatalogCode];

/** The codes an API error answers with (HookgateError). */
export type ErrorCode = CodesWhere<{ status: number }>;
/** Why a filter or map step failed. */
export type SandboxErrorCode = CodesWhere<{ stage: "sandbox" }>;
/** Why an attempt got no HTTP answer (or sent no request), as recorded in the delivery log. */
export type AttemptErrorCode = CodesWhere<{ retryable: boolean }>;

/** A literal checked against the catalog: `Code<"E_FORM_BODY">` fails to compile on a typo. */
export type Code<K extends CatalogCode> = K;

export function isCatalogCode(x: unknown): x is CatalogCode {
  return typeof x === "string" && Object.hasOwn(ERROR_CODES, x);
}

/** The catalog's codes whose entry passes `keep`. */
export function codesWhere<K extends CatalogCode>(
  keep: (entry: ErrorCodeEntry, code: CatalogCode) => boolean,
): K[] {
  return (Object.keys(ERROR_CODES) as CatalogCode[]).filter((code) => keep(ERROR_CODES[code], code)) as K[];
}

/** The API codes and their entries: what an error answer's code and status may be. */
export const ErrorCatalog = Object.fromEntries(
  codesWhere<ErrorCode>((e) => e.status !== undefined).map((code) => [code, ERROR_CODES[code]]),
) as { [K in ErrorCode]: Entry<K> };

/** Whether the retry policy may try an attempt that failed with this code again. */
export function isRetryableAttemptCode(code: string): boolean {
  return !isCatalogCode(code) || (ERROR_CODES[code] as ErrorCodeEntry).retryable !== false;
}

export class HookgateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ErrorCatalog[code].description);
    this.name = "HookgateError";
    this.code = code;
    this.status = ErrorCatalog[code].status;
    this.details = details;
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}
