import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { loadConfig } from "../../src/config/index.ts";
import { type Gateway, startGateway } from "../../src/gateway.ts";

export interface TestGateway {
  gateway: Gateway;
  app: FastifyInstance;
  token: string;
  prefix: string;
  /** app.inject with the admin token and JSON handling. */
  call(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<CallResult>;
  close(): Promise<void>;
}

export interface CallResult {
  status: number;
  body: unknown;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience for reading JSON answers
  json: any;
  headers: Record<string, unknown>;
}

/** The real gateway (API + workers) in this process, on its own key prefix of a real Redis. */
export async function startTestGateway(
  redisUrl: string,
  env: Record<string, string> = {},
): Promise<TestGateway> {
  const prefix = `t${randomBytes(4).toString("hex")}`;
  const token = `test-token-${randomBytes(8).toString("hex")}`;
  const config = loadConfig({
    REDIS_URL: redisUrl,
    HOOKGATE_KEY_PREFIX: prefix,
    HOOKGATE_TARGET_ALLOW: "127.0.0.1/32",
    HOOKGATE_LOCK_MS: "2000",
    HOOKGATE_FUNCTION_TIMEOUT_MS: "250",
    HOOKGATE_LOG_LEVEL: "silent",
    ...env,
  });
  const gateway = await startGateway(config, { adminToken: token, logger: { level: "error" } });
  const app = gateway.app;
  if (!app) throw new Error("test gateway needs the API role");
  await app.ready();
  return {
    gateway,
    app,
    token,
    prefix,
    async call(method, url, body, headers = {}) {
      const isString = typeof body === "string";
      const res = await app.inject({
        method: method as "GET",
        url,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined && !isString ? { "content-type": "application/json" } : {}),
          ...headers,
        },
        ...(body === undefined ? {} : { payload: isString ? body : JSON.stringify(body) }),
      });
      let parsed: unknown = res.body;
      try {
        parsed = res.body ? JSON.parse(res.body) : null;
      } catch {}
      return { status: res.statusCode, body: parsed, json: parsed, headers: res.headers };
    },
    close: () => gateway.close(),
  };
}
