import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply } from "fastify";
import { HookgateError } from "../errors.ts";

const digest = (value: string) => createHash("sha256").update(value).digest();

export interface AdminAuthOptions {
  /**
   * Pages a person opens in a browser (/docs, /admin/queues, /playground) cannot send a bearer
   * header on navigation: they also take HTTP Basic with the admin token as the password (any
   * user name), and a 401 asks the browser to prompt for it.
   */
  browser?: boolean;
}

/** The token a request presents: Bearer, or (for browser pages) the password of Basic. */
function presentedToken(header: string, browser: boolean): string | null {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer?.[1]) return bearer[1];
  if (!browser) return null;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!basic?.[1]) return null;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(colon + 1) : null;
}

/** Admin-token check for every route of the scope it is added to; compared in constant time. */
export function requireAdminToken(app: FastifyInstance, token: string, options: AdminAuthOptions = {}): void {
  const expected = digest(token);
  const browser = options.browser === true;
  app.addHook("onRequest", async (request, reply: FastifyReply) => {
    const presented = presentedToken(request.headers.authorization ?? "", browser);
    // Hashing first gives equal lengths, so timingSafeEqual never short-circuits on length.
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      if (browser) reply.header("www-authenticate", 'Basic realm="hookgate", charset="UTF-8"');
      throw new HookgateError("HG_ERR_UNAUTHORIZED");
    }
  });
}
