/**
 * The one catalog of API and pipeline errors. Every HTTP error body is
 * `{"error": {"code", "message", "details"?}}`; the status comes from here.
 */
export const ErrorCatalog = {
  HG_ERR_VALIDATION: { status: 400, message: "The request is not valid" },
  HG_ERR_BAD_JSON: { status: 400, message: "The body is not valid JSON" },
  HG_ERR_FUNCTION_SYNTAX: { status: 400, message: "The function does not compile" },
  HG_ERR_TEMPLATE_SYNTAX: { status: 400, message: "The template does not compile" },
  HG_ERR_TARGET_BLOCKED: { status: 400, message: "The target address is not allowed" },
  HG_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Unsupported content type" },
  HG_ERR_UNAUTHORIZED: { status: 401, message: "Missing or invalid bearer token" },
  HG_ERR_FORBIDDEN: { status: 403, message: "The key lacks the scope this needs" },
  HG_ERR_NOT_FOUND: { status: 404, message: "Not found" },
  HG_ERR_CONFLICT: { status: 409, message: "Conflict" },
  HG_ERR_EVENT_GONE: {
    status: 409,
    message: "The delivery has no body and its event is no longer kept, so it cannot be sent",
  },
  HG_ERR_BODY_TOO_LARGE: { status: 413, message: "The body is larger than the configured limit" },
  HG_ERR_REQUEST_TIMEOUT: { status: 408, message: "The request was not received in time" },
  HG_ERR_HEADERS_TOO_LARGE: { status: 431, message: "The request headers are too large" },
  HG_ERR_UNAVAILABLE: { status: 503, message: "Storage is unavailable; nothing was accepted" },
  HG_ERR_STORAGE_FULL: {
    status: 503,
    message: "Redis is out of memory (maxmemory); nothing was accepted, send it again later",
  },
  HG_ERR_SHUTTING_DOWN: {
    status: 503,
    message: "The gateway is shutting down; nothing was accepted, send it again",
  },
  HG_ERR_INTERNAL: { status: 500, message: "Internal error" },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ErrorCatalog;

export class HookgateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ErrorCatalog[code].message);
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
