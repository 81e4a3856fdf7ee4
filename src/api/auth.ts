import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  ADMIN_PRINCIPAL,
  KEY_PREFIX,
  KeyStore,
  keyIsLive,
  missingScopes,
  type Principal,
  type Scope,
} from "../access/index.ts";
import { HookgateError } from "../errors.ts";
import "./route-config.ts";
import type { ApiDeps } from "./deps.ts";

const digest = (value: string) => createHash("sha256").update(value).digest();

export interface KeyAuthOptions {
  /**
   * Pages a person opens in a browser (/docs, /admin/queues, /playground) cannot send a bearer
   * header on navigation: they also take HTTP Basic with the token or key as the password (any
   * user name), and a 401 asks the browser to prompt for it.
   */
  browser?: boolean;
  /** The scope every route here needs; otherwise each route's `config.scope`. */
  scope?: Scope;
}

/** What auth needs of the gateway: the bootstrap token, and Redis where keys are. */
export type AuthDeps = Pick<ApiDeps, "adminToken" | "redis" | "config">;

interface Presented {
  token: string;
  principal: Principal;
}

const presentedBy = new WeakMap<FastifyRequest, Presented>();
const stores = new WeakMap<object, KeyStore>();

/** The key store of the gateway's Redis and prefix: one per Redis connection. */
export function keyStoreOf(deps: Pick<ApiDeps, "redis" | "config">): KeyStore {
  let store = stores.get(deps.redis);
  if (!store) {
    store = new KeyStore(deps.redis, deps.config.HOOKGATE_KEY_PREFIX);
    stores.set(deps.redis, store);
  }
  return store;
}

/** Who made the request (after the auth hook has run), or null. */
export function principalOf(request: FastifyRequest): Principal | null {
  return presentedBy.get(request)?.principal ?? null;
}

/** The token or key the request presented: what a browser page's /session hands its script. */
export function presentedKeyOf(request: FastifyRequest): string | null {
  return presentedBy.get(request)?.token ?? null;
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

/**
 * Who presents `token`: the admin token (compared in constant time), or a live key read from
 * Redis on every request (nothing is cached, so a revoked key is refused by every process at once).
 */
async function principalFor(
  token: string,
  expected: Buffer,
  keys: KeyStore,
  log: FastifyBaseLogger,
): Promise<Principal | null> {
  // Hashing first gives equal lengths, so timingSafeEqual never short-circuits on length.
  if (timingSafeEqual(digest(token), expected)) return ADMIN_PRINCIPAL;
  if (!token.startsWith(KEY_PREFIX)) return null;
  const record = await keys.find(token);
  const now = Date.now();
  if (!record || !keyIsLive(record, now)) return null;
  // The request goes on either way: when a key was last used is a hint for its owner, not a gate.
  keys.touch(record.id, now).catch((err: unknown) => {
    log.warn({ err, keyId: record.id }, "could not note when the key was last used");
  });
  return { keyId: record.id, keyName: record.name, scopes: record.scopes };
}

/** A 403 naming the scope the key lacks. */
export function forbidden(scopes: readonly string[]): HookgateError {
  return new HookgateError(
    "HG_ERR_FORBIDDEN",
    `this key lacks the scope ${scopes.join(", ")}`,
    scopes.map((scope) => ({ path: "scope", message: `needs ${scope}`, scope })),
  );
}

/**
 * The key check for every route of the scope it is added to: a key (or the admin token), and the
 * scope the route declares (`config: { scope }`, or `options.scope` for the whole plugin). A route
 * that declares no scope is the admin token's alone.
 */
export function requireKey(app: FastifyInstance, deps: AuthDeps, options: KeyAuthOptions = {}): void {
  const expected = digest(deps.adminToken);
  const keys = keyStoreOf(deps);
  const browser = options.browser === true;
  app.addHook("onRequest", async (request, reply: FastifyReply) => {
    const token = presentedToken(request.headers.authorization ?? "", browser);
    const principal = token ? await principalFor(token, expected, keys, request.log) : null;
    if (!token || !principal) {
      if (browser) reply.header("www-authenticate", 'Basic realm="hookgate", charset="UTF-8"');
      throw new HookgateError("HG_ERR_UNAUTHORIZED");
    }
    presentedBy.set(request, { token, principal });
    reply.header("x-request-id", request.id);
    // An unknown path answers its 404 to any valid key.
    if (request.is404) return;
    const needed = options.scope ?? request.routeOptions.config.scope;
    if (!needed) {
      if (principal !== ADMIN_PRINCIPAL)
        throw new HookgateError("HG_ERR_FORBIDDEN", "only the admin token may call this");
      return;
    }
    const missing = missingScopes(principal.scopes, [needed]);
    if (missing.length > 0) throw forbidden(missing);
  });
}
