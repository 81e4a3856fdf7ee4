/**
 * The delivery dashboard: the page built from web/dashboard (npm run build:web) served at
 * /dashboard/, behind the admin token exactly as the playground is (see playground-api.ts): HTTP
 * Basic with the token as the password for the page, a no-store /dashboard/session answer that
 * gives the page the token, and bearer calls to /v1 from there. Same Content-Security-Policy:
 * the page's own script and styles, requests to this origin only (its charts draw in the page;
 * no data leaves it).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { HookgateError } from "../errors.ts";
import { requireAdminToken } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";

export const DASHBOARD_DIR = fileURLToPath(new URL("../../web/dashboard/dist/", import.meta.url));

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // uPlot sizes its canvas and legend through element styles.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export interface DashboardOptions {
  /** Where the built page is; web/dashboard/dist by default. */
  root?: string;
}

export const dashboardApi =
  (deps: Pick<ApiDeps, "adminToken">, options: DashboardOptions = {}) =>
  async (app: FastifyInstance): Promise<void> => {
    const root = options.root ?? DASHBOARD_DIR;

    // The page's asset URLs are relative (./assets/…): they resolve only below the trailing slash.
    app.get("/dashboard", { schema: { hide: true } }, async (_request, reply) =>
      reply.redirect("/dashboard/", 301),
    );

    await app.register(
      async (page) => {
        requireAdminToken(page, deps.adminToken, { browser: true });
        page.addHook("onSend", async (request, reply, payload) => {
          reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
          reply.header("x-content-type-options", "nosniff");
          reply.header("referrer-policy", "no-referrer");
          const immutable = reply.statusCode === 200 && request.url.startsWith("/dashboard/assets/");
          reply.header("cache-control", immutable ? "private, max-age=31536000, immutable" : "no-store");
          return payload;
        });

        page.get("/session", { schema: { hide: true } }, async () => ({ token: deps.adminToken }));

        await page.register(fastifyStatic, {
          root,
          prefix: "/",
          decorateReply: false,
          dotfiles: "ignore",
          cacheControl: false,
          wildcard: true,
        });

        page.setNotFoundHandler((request, reply) => {
          const message = existsSync(`${root}/index.html`)
            ? `no file ${request.url}`
            : "the dashboard is not built: run npm run build:web";
          return reply.code(404).send(new HookgateError("HG_ERR_NOT_FOUND", message).toBody());
        });
      },
      { prefix: "/dashboard" },
    );
  };
