/**
 * Which network addresses a delivery may reach. Pure functions, no I/O: parsing IP literals in
 * every form a resolver or URL parser might accept, classifying them (public, loopback, private,
 * ...), and an allow-list policy on top. The send-time guard (delivery/guarded-agent.ts), the
 * save-time check (checkTargetUrl) and the configuration's allow list (config/schema.ts) use it.
 */

import ipaddr from "ipaddr.js";

export type AddressClass =
  | "public"
  | "private"
  | "loopback"
  | "link-local"
  | "cgnat"
  | "multicast"
  | "unspecified"
  | "reserved"
  | "broadcast"
  | "documentation"
  | "benchmarking"
  | "unique-local"
  | "site-local";

export interface AddressPolicy {
  /** True when a delivery may connect to `ip` (an IP literal in any form; anything else is refused). */
  allows(ip: string): boolean;
  /** null when allowed; otherwise a human reason such as "127.0.0.2 is a loopback address". */
  explain(ip: string): string | null;
}

export type TargetCheck = { ok: true } | { ok: false; reason: string };

// ---------------------------------------------------------------------------------------------
// Parsing

type Ip = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = readonly [Ip, number];

/** A strict dotted quad (no leading zeros), the only IPv4 form RFC 4291 allows inside IPv6. */
const DOTTED_QUAD =
  /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;

/**
 * IPv4 in any form getaddrinfo/inet_aton or the WHATWG URL parser accept: 1 to 4 parts, each
 * decimal, hex or octal, the last filling the remaining bytes (127.1, 2130706434, 0x7f.1,
 * 0177.0.0.1), with an optional trailing dot.
 */
function parseV4(input: string): ipaddr.IPv4 | null {
  const parts = input.split(".");
  // ipaddr.js takes neither the trailing dot (the DNS root) nor a bare "0x" part, which both of
  // those parsers read as 0.
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  const text = parts.map((part) => (part === "0x" ? "0" : part)).join(".");
  try {
    return ipaddr.IPv4.parse(text);
  } catch {
    return null;
  }
}

/** IPv6 text form (RFC 4291 2.2), optionally with an embedded dotted quad and a %zone (ignored). */
function parseV6(input: string): ipaddr.IPv6 | null {
  const zone = input.indexOf("%");
  if (zone !== -1 && zone === input.length - 1) return null;
  let text = zone === -1 ? input : input.slice(0, zone);
  // The dotted quad becomes two groups here: ipaddr.js would read ::a.b.c.d as IPv4-mapped
  // (it is IPv4-compatible) and take octal or hex parts in it.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (!DOTTED_QUAD.test(tail)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = tail.split(".").map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  try {
    return ipaddr.IPv6.parse(text);
  } catch {
    return null;
  }
}

/** Any IP literal form (bracketed IPv6 too) → parsed address; null for anything else. */
function parseIp(input: string): Ip | null {
  const text = input.trim();
  if (text.startsWith("[")) {
    if (!text.endsWith("]")) return null;
    return parseV6(text.slice(1, -1));
  }
  if (text.includes(":")) return parseV6(text);
  return parseV4(text.toLowerCase());
}

function v4FromWords(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** RFC 5952 text, with IPv4-mapped addresses written ::ffff:a.b.c.d. */
function formatIp(ip: Ip): string {
  if (ip instanceof ipaddr.IPv4) return ip.toString();
  return ip.isIPv4MappedAddress() ? `::ffff:${ip.toIPv4Address().toString()}` : ip.toRFC5952String();
}

/**
 * The host part of a URL (IPv6 possibly bracketed) → canonical IP literal when the host is an IP
 * address in any form (2130706434, 0x7f000002, 0177.0.0.1, 127.1, [::ffff:127.0.0.2], ...), or null
 * when it is a DNS name. IPv4-mapped IPv6 is written ::ffff:a.b.c.d; other IPv6 per RFC 5952.
 */
export function parseHostAddress(host: string): string | null {
  const ip = parseIp(host);
  return ip === null ? null : formatIp(ip);
}

// ---------------------------------------------------------------------------------------------
// Classification

function cidr(text: string): Cidr {
  return ipaddr.parseCIDR(text);
}

/** First match wins, so more specific ranges come first. */
const V4_CLASSES: ReadonlyArray<readonly [Cidr, AddressClass]> = (
  [
    ["0.0.0.0/32", "unspecified"],
    ["0.0.0.0/8", "reserved"], // "this network"
    ["10.0.0.0/8", "private"],
    ["100.64.0.0/10", "cgnat"],
    ["127.0.0.0/8", "loopback"],
    ["169.254.0.0/16", "link-local"],
    ["172.16.0.0/12", "private"],
    ["192.0.0.0/24", "reserved"], // IETF protocol assignments
    ["192.0.2.0/24", "documentation"],
    ["192.88.99.0/24", "reserved"], // deprecated 6to4 relay anycast
    ["192.168.0.0/16", "private"],
    ["198.18.0.0/15", "benchmarking"],
    ["198.51.100.0/24", "documentation"],
    ["203.0.113.0/24", "documentation"],
    ["224.0.0.0/4", "multicast"],
    ["255.255.255.255/32", "broadcast"],
    ["240.0.0.0/4", "reserved"],
  ] as const
).map(([range, cls]) => [cidr(range), cls] as const);

const V6_CLASSES: ReadonlyArray<readonly [Cidr, AddressClass]> = (
  [
    ["::/128", "unspecified"],
    ["::1/128", "loopback"],
    ["64:ff9b:1::/48", "reserved"], // local-use NAT64
    ["100::/64", "reserved"], // discard-only
    ["2001:db8::/32", "documentation"],
    ["3fff::/20", "documentation"],
    ["2001:2::/48", "benchmarking"],
    ["2001::/23", "reserved"], // IETF protocol assignments (ORCHID, AS112, ...)
    ["fc00::/7", "unique-local"],
    ["fe80::/10", "link-local"],
    ["fec0::/10", "site-local"],
    ["ff00::/8", "multicast"],
  ] as const
).map(([range, cls]) => [cidr(range), cls] as const);

const GLOBAL_UNICAST = cidr("2000::/3");
const V4_MAPPED = cidr("::ffff:0:0/96");
const V4_COMPATIBLE = cidr("::/96");
const NAT64 = cidr("64:ff9b::/96");
const SIX_TO_FOUR = cidr("2002::/16");
const TEREDO = cidr("2001::/32");

function inRange(ip: Ip, [base, prefix]: Cidr): boolean {
  return ip.kind() === base.kind() && ip.match(base, prefix);
}

/** The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4, Teredo), if any. */
function embeddedV4(ip: ipaddr.IPv6): ipaddr.IPv4 | null {
  const [, w1 = 0, w2 = 0, , , , w6 = 0, w7 = 0] = ip.parts;
  if (inRange(ip, V4_MAPPED)) return v4FromWords(w6, w7);
  // :: and ::1 are in ::/96 but are not IPv4-compatible addresses.
  if (inRange(ip, V4_COMPATIBLE) && (w6 !== 0 || w7 > 1)) return v4FromWords(w6, w7);
  if (inRange(ip, NAT64)) return v4FromWords(w6, w7);
  if (inRange(ip, SIX_TO_FOUR)) return v4FromWords(w1, w2);
  if (inRange(ip, TEREDO)) return v4FromWords(w6 ^ 0xffff, w7 ^ 0xffff); // the client address, obfuscated
  return null;
}

function classifyV4(ip: ipaddr.IPv4): AddressClass {
  for (const [range, cls] of V4_CLASSES) if (inRange(ip, range)) return cls;
  return "public";
}

interface Classification {
  readonly cls: AddressClass;
  /** The embedded IPv4 address the class was taken from, for IPv6 transition forms. */
  readonly via?: string;
}

function classifyIp(ip: Ip): Classification {
  if (ip instanceof ipaddr.IPv4) return { cls: classifyV4(ip) };
  const v4 = embeddedV4(ip);
  if (v4 !== null) return { cls: classifyV4(v4), via: v4.toString() };
  for (const [range, cls] of V6_CLASSES) if (inRange(ip, range)) return { cls };
  return { cls: inRange(ip, GLOBAL_UNICAST) ? "public" : "reserved" };
}

/**
 * Class of an IP literal (canonical or any other form parseHostAddress accepts). IPv6 forms that
 * embed an IPv4 address (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::/96, 2002::/16, Teredo 2001::/32)
 * take the class of the embedded address. IPv6 outside 2000::/3 is "reserved".
 * @throws TypeError when `ip` is not an IP address.
 */
export function classifyAddress(ip: string): AddressClass {
  const parsed = parseIp(ip);
  if (parsed === null) throw new TypeError(`not an IP address: ${ip}`);
  return classifyIp(parsed).cls;
}

// ---------------------------------------------------------------------------------------------
// Policy

/** As IPv6; IPv4 becomes IPv4-mapped so that both families compare alike. */
function toV6(ip: Ip): ipaddr.IPv6 {
  if (ip instanceof ipaddr.IPv6) return ip;
  const [a = 0, b = 0, c = 0, d = 0] = ip.octets;
  return new ipaddr.IPv6([0, 0, 0, 0, 0, 0xffff, (a << 8) | b, (c << 8) | d]);
}

/** An allow-list entry as an IPv6 range; the address accepts every form parseHostAddress does. */
function parseCidrRange(text: string): Cidr | null {
  const slash = text.indexOf("/");
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (ip === null) return null;
  const max = ip instanceof ipaddr.IPv4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    // Stricter than ipaddr.parseCIDR, which takes "/08": a prefix is written in plain decimal.
    const p = text.slice(slash + 1).trim();
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  return [toV6(ip), prefix + 128 - max];
}

/** True for "10.0.0.0/8", "::1/128", a bare IP (= /32 or /128); for validating configuration. */
export function isValidCidr(cidr: string): boolean {
  return parseCidrRange(cidr) !== null;
}

const DESCRIPTIONS: Record<AddressClass, string> = {
  public: "a public address",
  private: "a private address",
  loopback: "a loopback address",
  "link-local": "a link-local address",
  cgnat: "a carrier-grade NAT (shared) address",
  multicast: "a multicast address",
  unspecified: "an unspecified address",
  reserved: "a reserved address",
  broadcast: "a broadcast address",
  documentation: "a documentation address",
  benchmarking: "a benchmarking address",
  "unique-local": "a unique-local address",
  "site-local": "a site-local address",
};

/**
 * Only "public" addresses are allowed, plus any address inside one of `allowCidrs` whatever its
 * class. IPv4 CIDRs also match IPv4-mapped IPv6 (::ffff:a.b.c.d) and vice versa; note an IPv6
 * CIDR that covers ::ffff:0:0/96 (such as ::/0) therefore covers all of IPv4.
 * @throws TypeError on an invalid CIDR.
 */
export function createAddressPolicy(allowCidrs: readonly string[]): AddressPolicy {
  const allowed: Cidr[] = allowCidrs.map((cidr) => {
    const r = parseCidrRange(cidr);
    if (r === null) throw new TypeError(`invalid CIDR in the allow list: ${JSON.stringify(cidr)}`);
    return r;
  });

  const explain = (ip: string): string | null => {
    const parsed = parseIp(ip);
    if (parsed === null) return `${JSON.stringify(ip)} is not an IP address`;
    const v6 = toV6(parsed);
    if (allowed.some((range) => inRange(v6, range))) return null;
    const { cls, via } = classifyIp(parsed);
    if (cls === "public") return null;
    const text = formatIp(parsed);
    return `${text} is ${DESCRIPTIONS[cls]}${via === undefined || via === text ? "" : ` (it embeds ${via})`}`;
  };

  return { explain, allows: (ip) => explain(ip) === null };
}

// ---------------------------------------------------------------------------------------------
// Save-time URL check

/** "localhost", "localhost." and any "*.localhost" name (RFC 6761: always loopback). */
export function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.+$/, "");
  return name === "localhost" || name.endsWith(".localhost");
}

/** The addresses localhost names are treated as, both by checkTargetUrl and the send-time guard. */
export const LOCALHOST_ADDRESSES: readonly string[] = ["127.0.0.1", "::1"];

/**
 * Save-time check of a delivery target: it must parse, use http: or https:, carry no user:pass@,
 * have a host, and if the host is an IP literal (in any form) or a localhost name, the policy must
 * allow it (localhost names count as 127.0.0.1 and ::1, both must be allowed). Other names pass;
 * the guarded agent checks what they resolve to at send time. Does no I/O.
 */
export function checkTargetUrl(url: string, policy: AddressPolicy): TargetCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: "the URL is not valid" };
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return { ok: false, reason: `the scheme ${parsed.protocol} is not allowed; use http: or https:` };
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return { ok: false, reason: "credentials in the URL (user:pass@) are not allowed" };
  }
  const host = parsed.hostname;
  if (host === "") return { ok: false, reason: "the URL has no host" };

  const ip = parseHostAddress(host);
  if (ip !== null) {
    const reason = policy.explain(ip);
    return reason === null ? { ok: true } : { ok: false, reason };
  }
  if (isLocalhostName(host)) {
    for (const addr of LOCALHOST_ADDRESSES) {
      const reason = policy.explain(addr);
      if (reason !== null) return { ok: false, reason: `${host} is loopback: ${reason}` };
    }
  }
  return { ok: true };
}
