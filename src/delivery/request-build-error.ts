import type { Code } from "../errors.ts";

/**
 * Why buildRequest could not build a route's request: nothing was sent. The worker records it as
 * a failed attempt with this code; the message names the route field and variable, never a value.
 *   E_ENV_MISSING  a ${NAME} in a header or credential has no (or an empty) value in the environment
 *   E_ENV_INVALID  the value it resolved to cannot go into a header (CR, LF or other controls)
 *   E_FORM_BODY    target.format is form but the rendered body is not a JSON object
 */
export type RequestBuildErrorCode = Code<"E_ENV_MISSING" | "E_ENV_INVALID" | "E_FORM_BODY">;

export class RequestBuildError extends Error {
  readonly code: RequestBuildErrorCode;

  constructor(code: RequestBuildErrorCode, message: string) {
    super(message);
    this.name = "RequestBuildError";
    this.code = code;
  }
}

export function isRequestBuildError(err: unknown): err is RequestBuildError {
  return err instanceof RequestBuildError;
}
