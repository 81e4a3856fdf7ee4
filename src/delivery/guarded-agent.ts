/**
 * Send-time guard against deliveries reaching internal addresses (SSRF). An undici Agent whose
 * connector checks every address it is about to connect to against an AddressPolicy:
 *
 * - IP-literal hosts (net.connect skips `lookup` for them) are checked in a wrapper around
 *   undici's buildConnector, and the connection goes to exactly the checked literal.
 * - Names are resolved ONCE by a custom `lookup` handed to net/tls connect: every resolved address
 *   must be allowed, and the socket connects to those same addresses — there is no second
 *   resolution, so DNS rebinding cannot swap in another address after the check.
 * - localhost names ("localhost", "*.localhost") never reach DNS: they are 127.0.0.1 and ::1, and
 *   both must be allowed (the same rule as checkTargetUrl).
 *
 * The agent follows no redirects (undici's request/stream/pipeline never do without a redirect
 * interceptor). If a caller composes one, or uses fetch (which follows by default), every hop
 * still connects through this connector and is checked.
 */

import type { LookupAddress, LookupOptions } from "node:dns";
import dns from "node:dns";
import type { LookupFunction } from "node:net";
import { Agent, buildConnector } from "undici";
import {
  type AddressPolicy,
  isLocalhostName,
  LOCALHOST_ADDRESSES,
  parseHostAddress,
} from "../shared/address-policy.ts";

export class BlockedAddressError extends Error {
  readonly code = "HG_ERR_TARGET_BLOCKED";
  override readonly name = "BlockedAddressError";
  /** The host the connection was for (a name or IP literal). */
  readonly host: string;
  /** The address that was refused. */
  readonly address: string;

  constructor(message: string, host: string, address: string) {
    super(message);
    this.host = host;
    this.address = address;
  }
}

/** The BlockedAddressError in `err` or its `.cause` chain (or AggregateError members), else null. */
export function findBlockedAddressError(err: unknown): BlockedAddressError | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    if (e instanceof BlockedAddressError) return e;
    if ("cause" in e) queue.push(e.cause);
    if (e instanceof AggregateError) queue.push(...e.errors);
  }
  return null;
}

/** True when `err`, or anything in its `.cause` chain, is a BlockedAddressError. */
export function isBlockedAddressError(err: unknown): boolean {
  return findBlockedAddressError(err) !== null;
}

/** Resolves a name to all its addresses. The default is dns.lookup with all: true. */
export type ResolveFunction = (hostname: string, family: 0 | 4 | 6) => Promise<LookupAddress[]>;

export interface GuardedAgentOptions {
  policy: AddressPolicy;
  /** Max sockets per origin (undici Agent `connections`); unlimited when unset. */
  connections?: number;
  /** Idle keep-alive socket timeout (undici `keepAliveTimeout`); undici's default (4 s) when unset. */
  keepAliveTimeoutMs?: number;
  /** TCP + TLS connect timeout; undici's default (10 s) when unset. */
  connectTimeoutMs?: number;
  /** Replaces dns.lookup; for tests (e.g. mapping a test name to loopback addresses). */
  resolve?: ResolveFunction;
}

const defaultResolve: ResolveFunction = (hostname, family) =>
  dns.promises.lookup(hostname, { all: true, family, order: "verbatim" });

function familyOf(options: LookupOptions): 0 | 4 | 6 {
  const f = options.family;
  if (f === 4 || f === "IPv4") return 4;
  if (f === 6 || f === "IPv6") return 6;
  return 0;
}

/** A net/tls `lookup` that resolves once, refuses if any address is blocked, and returns the rest. */
function guardedLookup(policy: AddressPolicy, resolve: ResolveFunction): LookupFunction {
  return (hostname, options, callback) => {
    const family = familyOf(options);
    const resolved: Promise<LookupAddress[]> = isLocalhostName(hostname)
      ? Promise.resolve(
          LOCALHOST_ADDRESSES.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })),
        )
      : resolve(hostname, family);
    resolved.then(
      (all) => {
        for (const { address } of all) {
          const reason = policy.explain(address);
          if (reason !== null) {
            const message = `${hostname} resolves to a blocked address: ${reason}`;
            callback(new BlockedAddressError(message, hostname, address), "");
            return;
          }
        }
        const usable = family === 0 ? all : all.filter((a) => a.family === family);
        const first = usable[0];
        if (first === undefined) {
          const err: NodeJS.ErrnoException = new Error(`no address found for ${hostname}`);
          err.code = "ENOTFOUND";
          callback(err, "");
        } else if (options.all === true) {
          callback(null, usable);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, ""),
    );
  };
}

/** An undici Agent that only connects to addresses `options.policy` allows. */
export function createGuardedAgent(options: GuardedAgentOptions): Agent {
  const { policy } = options;
  const base = buildConnector({
    // HTTP/1.1 only: `connections` caps a target's sockets, and attempt errors are classified by
    // HTTP/1.1's codes; over h2 (offered by default through ALPN) one socket would carry many.
    allowH2: false,
    lookup: guardedLookup(policy, options.resolve ?? defaultResolve),
    ...(options.connectTimeoutMs === undefined ? {} : { timeout: options.connectTimeoutMs }),
  });

  const connect: buildConnector.connector = (opts, callback) => {
    const ip = parseHostAddress(opts.hostname);
    if (ip === null) {
      base(opts, callback); // a name: the guarded lookup checks what it resolves to
      return;
    }
    const reason = policy.explain(ip);
    if (reason !== null) {
      const err = new BlockedAddressError(reason, opts.hostname, ip);
      process.nextTick(() => callback(err, null));
      return;
    }
    // Connect to the literal that was checked (canonical, so net never hands it to DNS).
    base({ ...opts, hostname: ip }, callback);
  };

  return new Agent({
    connect,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
    ...(options.keepAliveTimeoutMs === undefined ? {} : { keepAliveTimeout: options.keepAliveTimeoutMs }),
  });
}
