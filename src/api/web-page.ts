/*
 * A page built from web/<name> (npm run build:web), served at /<name>/ behind a key with the
 * page's scope (or the admin token).
 *
 * A browser cannot send a bearer header when it opens a page, so the page takes HTTP Basic with
 * the key as the password (requireKey's browser mode: a 401 makes the browser prompt).
 * Scripts cannot read the credentials the browser keeps, so the page asks /<name>/session for
 * the key (it answers only to a request that already presented it, with that same key, so the
 * page can do through /v1 only what the key's scopes allow) and calls /v1 with it as a
 * bearer header. /v1 keeps accepting bearer tokens only, so nothing the browser attaches by itself
 * (cached Basic credentials, cookies) works there, and other sites cannot drive the API through an
 * admin's browser; the same-origin policy keeps them from reading the session answer.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import type { Scope } from "../access/index.ts";
import { HookgateError } from "../errors.ts";
import { type AuthDeps, presentedKeyOf, requireKey } from "./auth.ts";

/** Where the page built from web/<name> is. */
export function webPageDir(name: string): string {
  return fileURLToPath(new URL(`../../web/${name}/dist/`, import.meta.url));
}

// A page loads only its own script and styles (CodeMirror adds <style> elements and uPlot sizes
// its canvas through element styles, hence 'unsafe-inline' for styles), talks only to this
// origin, and shows images from email content as frames, never loading them.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export interface WebPageOptions {
  /** Where the built page is; web/<name>/dist by default. */
  root?: string;
}

export const webPageApi =
  (name: string, scope: Scope, deps: AuthDeps, options: WebPageOptions = {}) =>
  async (app: FastifyInstance): Promise<void> => {
    const root = options.root ?? webPageDir(name);
    const prefix = `/${name}`;

    // The page's asset URLs are relative (./assets/…): they resolve only below the trailing slash.
    app.get(prefix, { schema: { hide: true } }, async (_request, reply) => reply.redirect(`${prefix}/`, 301));

    await app.register(
      async (page) => {
        requireKey(page, deps, { browser: true, scope });
        page.addHook("onSend", async (request, reply, payload) => {
          reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
          reply.header("x-content-type-options", "nosniff");
          reply.header("referrer-policy", "no-referrer");
          // Built assets carry a content hash in their name; everything else, and every answer
          // that holds the token, is never stored.
          const immutable = reply.statusCode === 200 && request.url.startsWith(`${prefix}/assets/`);
          reply.header("cache-control", immutable ? "private, max-age=31536000, immutable" : "no-store");
          return payload;
        });

        page.get("/session", { schema: { hide: true } }, async (request) => ({
          token: presentedKeyOf(request),
        }));

        await page.register(fastifyStatic, {
          root,
          prefix: "/",
          decorateReply: false,
          dotfiles: "ignore",
          cacheControl: false,
          // A build made after the gateway started is served as is.
          wildcard: true,
        });

        page.setNotFoundHandler((request, reply) => {
          const message = existsSync(`${root}/index.html`)
            ? `no file ${request.url}`
            : `the ${name} page is not built: run npm run build:web`;
          return reply.code(404).send(new HookgateError("HG_ERR_NOT_FOUND", message).toBody());
        });
      },
      { prefix },
    );
  };
