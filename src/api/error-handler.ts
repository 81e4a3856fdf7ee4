import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { type ErrorCode, HookgateError } from "../errors.ts";
import { isOutOfMemory } from "../shared/storage-guard.ts";
import { describeIssues, type Issue } from "../shared/validation-issues.ts";

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "HG_ERR_BODY_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "HG_ERR_UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "HG_ERR_VALIDATION",
  FST_ERR_CTP_EMPTY_JSON_BODY: "HG_ERR_BAD_JSON",
  FST_ERR_CTP_INVALID_JSON_BODY: "HG_ERR_BAD_JSON",
};

/** Every body the API reads is JSON, except a function source uploaded as it sits in a .js file. */
const ACCEPTED_MEDIA_TYPES = ["application/json"];
const FUNCTION_MEDIA_TYPES = ["application/javascript", "text/javascript", "text/plain"];

export function unsupportedMediaType(given: string): HookgateError {
  const message =
    `Content-Type ${given} is not accepted: send ${ACCEPTED_MEDIA_TYPES.join(", ")}` +
    ` (a function source for PUT /v1/routes/:id/filter or /map: ${FUNCTION_MEDIA_TYPES.join(", ")})`;
  return new HookgateError("HG_ERR_UNSUPPORTED_MEDIA_TYPE", message, [
    { path: "content-type", message, accepted: [...ACCEPTED_MEDIA_TYPES, ...FUNCTION_MEDIA_TYPES] },
  ]);
}

/**
 * Redis away, or between primaries: a restart, or a Cluster or Sentinel failover (the Cluster's
 * slot unserved or moving, a demoted primary refusing writes) until the client finds the new one.
 */
const REDIS_UNAVAILABLE =
  /enableOfflineQueue|Connection is closed|ECONNREFUSED|max retries per request|LOADING|CLUSTERDOWN|Cluster isn't ready|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available|TRYAGAIN|READONLY|MASTERDOWN|All sentinels are unreachable/i;

function isRedisUnavailable(err: unknown): boolean {
  return REDIS_UNAVAILABLE.test(err instanceof Error ? err.message : "");
}

/** One error shape for every failure: `{"error": {"code", "message", "details"?}}`. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(new HookgateError("HG_ERR_NOT_FOUND", `no endpoint ${request.method} ${request.url}`).toBody());
  });

  app.setErrorHandler((err: FastifyError | HookgateError | Error, request, reply) => {
    if (err instanceof HookgateError) return reply.code(err.status).send(err.toBody());
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = (err as { validationContext?: string }).validationContext;
      // The type provider flattens each zod issue into an ajv-like entry; rebuild the issue.
      const issues = err.validation.map(
        (v): Issue => ({
          ...(v.params as Omit<Issue, "code" | "path" | "message">),
          code: v.keyword,
          path: v.instancePath.split("/").filter(Boolean),
          message: v.message ?? "invalid",
        }),
      );
      const details = describeIssues(issues, where === "body" ? "" : (where ?? ""));
      const first = details[0];
      const message = first ? `${first.path || where || "request"}: ${first.message}` : "invalid request";
      return reply.code(400).send(new HookgateError("HG_ERR_VALIDATION", message, details).toBody());
    }
    const fe = err as FastifyError;
    if (fe.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      const given = request.headers["content-type"] ?? "none";
      return reply.code(415).send(unsupportedMediaType(given).toBody());
    }
    const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (mapped)
      return reply
        .code(new HookgateError(mapped).status)
        .send(new HookgateError(mapped, fe.message).toBody());
    if (err instanceof SyntaxError && fe.statusCode === 400) {
      return reply.code(400).send(new HookgateError("HG_ERR_BAD_JSON", err.message).toBody());
    }
    if (isOutOfMemory(err)) {
      request.log.warn({ err }, "redis out of memory");
      return reply.code(503).send(new HookgateError("HG_ERR_STORAGE_FULL").toBody());
    }
    if (isRedisUnavailable(err)) {
      request.log.warn({ err }, "redis unavailable");
      return reply.code(503).send(new HookgateError("HG_ERR_UNAVAILABLE").toBody());
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send(new HookgateError("HG_ERR_VALIDATION", fe.message).toBody());
    }
    request.log.error({ err }, "unhandled error");
    return reply.code(500).send(new HookgateError("HG_ERR_INTERNAL").toBody());
  });
}

/**
 * Errors fastify raises before any route or hook runs: a URL it cannot decode (`%`, `%E0%A4%A`)
 * or a path parameter over its maxParamLength. Passed as the `frameworkErrors` option.
 */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  reply
    .code(400)
    .send(new HookgateError("HG_ERR_VALIDATION", `the URL is not valid: ${err.message}`).toBody());
}

/**
 * Requests node's HTTP parser refuses (a malformed request line or header, headers over the
 * limit, a request that does not arrive in time) never reach fastify: they are answered on the
 * socket, in the same shape, and the connection is closed. Passed as `clientErrorHandler`.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const code: ErrorCode =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? "HG_ERR_REQUEST_TIMEOUT"
      : err.code === "HPE_HEADER_OVERFLOW"
        ? "HG_ERR_HEADERS_TOO_LARGE"
        : "HG_ERR_VALIDATION";
  const error = new HookgateError(
    code,
    code === "HG_ERR_VALIDATION" ? "The request is not valid HTTP" : undefined,
  );
  const body = JSON.stringify(error.toBody());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
