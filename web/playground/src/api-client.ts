/**
 * Calls to the gateway's /v1 API with the admin token as a bearer header.
 *
 * The page itself is behind HTTP Basic (the admin token as the password), which a browser keeps
 * and resends but never shows to scripts. So the page asks `./session` (behind that same Basic
 * check, answered as JSON with no-store) for the token once, keeps it in memory only, and sends it
 * as `Authorization: Bearer` like any other API client. /v1 therefore never accepts credentials
 * the browser attaches by itself, and other sites cannot make the browser act on it.
 */
import type { ApiErrorBody } from "./server-problems.ts";

export class ApiError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;

  constructor(status: number, body: ApiErrorBody) {
    super(`${body.code}: ${body.message}`);
    this.status = status;
    this.body = body;
  }
}

export type ApiCall = <T>(method: string, path: string, body?: unknown) => Promise<T>;

function errorBodyOf(status: number, parsed: unknown): ApiErrorBody {
  const error = (parsed as { error?: ApiErrorBody } | null)?.error;
  if (error && typeof error.code === "string") return error;
  return { code: `HTTP_${status}`, message: `the gateway answered ${status}` };
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

/** The admin token, from the page's own Basic-authenticated session endpoint. */
export async function loadToken(): Promise<string> {
  const response = await fetch("./session", { credentials: "same-origin", cache: "no-store" });
  const parsed = await readJson(response);
  if (!response.ok) throw new ApiError(response.status, errorBodyOf(response.status, parsed));
  return (parsed as { token: string }).token;
}

export function apiClient(token: string): ApiCall {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(path, {
      method,
      // Bearer only: no cookies or cached Basic credentials go to /v1.
      credentials: "omit",
      cache: "no-store",
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const parsed = await readJson(response);
    if (!response.ok) throw new ApiError(response.status, errorBodyOf(response.status, parsed));
    return parsed as T;
  };
}
