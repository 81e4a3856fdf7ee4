import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { RouteOut } from "../api/index.ts";
import type { RouteIn } from "../routing/index.ts";

/** A failure to report and exit 1 with (not a usage error). */
export class CliError extends Error {
  override name = "CliError";
}

/** The gateway answered with its error shape, or could not be reached (status 0). */
export class ApiError extends CliError {
  override name = "ApiError";
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface DryRunStep {
  logs: string[];
  durationMs: number;
  error?: { code: string; message: string };
}

export interface DryRunResult {
  routeId: string;
  routeName: string;
  /** Events, sources and filter take the event (its map or template may still fail). */
  matched: boolean;
  /** It would be sent. */
  fired: boolean;
  skipped: string | null;
  filter: (DryRunStep & { result: boolean | null }) | null;
  map: (DryRunStep & { output: unknown }) | null;
  request: { method: string; url: string; headers: Record<string, string>; body: string } | null;
  truncations: { path: string; limit: number; originalLength: number }[];
  error?: { code: string; message: string };
}

export interface DryRunAnswer {
  event: { id: string; type: string; [key: string]: unknown };
  results: DryRunResult[];
}

/** The few calls of the admin API the CLI makes. */
export class GatewayClient {
  readonly url: string;
  readonly #token: string;

  constructor(url: string, token: string) {
    this.url = url.replace(/\/+$/, "");
    this.#token = token;
  }

  async listRoutes(): Promise<RouteOut[]> {
    return (await this.#call<{ routes: RouteOut[] }>("GET", "/v1/routes")).routes;
  }

  createRoute(route: RouteIn): Promise<RouteOut> {
    return this.#call("POST", "/v1/routes", route);
  }

  patchRoute(id: string, patch: Record<string, unknown>): Promise<RouteOut> {
    return this.#call("PATCH", `/v1/routes/${encodeURIComponent(id)}`, patch);
  }

  async deleteRoute(id: string): Promise<void> {
    await this.#call("DELETE", `/v1/routes/${encodeURIComponent(id)}`);
  }

  dryRun(body: Record<string, unknown>): Promise<DryRunAnswer> {
    return this.#call("POST", "/v1/dry-run", body);
  }

  async redrive(id: string, since: string, until: string): Promise<{ redriven: number; scanned: number }> {
    return this.#call("POST", `/v1/routes/${encodeURIComponent(id)}/redrive`, { since, until });
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiError(
        0,
        "E_CONNECTION",
        `cannot reach the gateway at ${this.url}: ${cause?.code ?? cause?.message ?? String(err)}`,
      );
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // Not the gateway's JSON: reported below with the status.
    }
    if (!res.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiError(
        res.status,
        error?.code ?? `HTTP_${res.status}`,
        error?.message ?? `${method} ${path}: HTTP ${res.status}`,
      );
    }
    return json as T;
  }
}

/**
 * HOOKGATE_URL (or --url), and HOOKGATE_API_KEY (a scoped key: each command needs the scopes of
 * the calls it makes), else HOOKGATE_ADMIN_TOKEN, else the token file `npm start` writes.
 */
export async function clientFromEnv(
  env: NodeJS.ProcessEnv,
  cwd: string,
  url: string | null,
): Promise<GatewayClient> {
  const base = url ?? env.HOOKGATE_URL ?? "http://127.0.0.1:3000";
  let token = env.HOOKGATE_API_KEY?.trim() || env.HOOKGATE_ADMIN_TOKEN?.trim();
  if (!token) {
    const file = resolve(cwd, env.HOOKGATE_DATA_DIR || ".data", "admin-token");
    try {
      token = (await readFile(file, "utf8")).trim();
    } catch {
      throw new CliError(`no key: set HOOKGATE_API_KEY or HOOKGATE_ADMIN_TOKEN, or run where ${file} exists`);
    }
  }
  return new GatewayClient(base, token);
}
