/**
 * Which network addresses a delivery may reach. Pure functions, no I/O: parsing IP literals in
 * every form a resolver or URL parser might accept, classifying them (public, loopback, private,
 * ...), and an allow-list policy on top. The send-time guard (delivery/guarded-agent.ts), the
 * save-time check (checkTargetUrl) and the configuration's allow list (config/schema.ts) use it.
 */

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

/** An address as an integer: 32 bits for IPv4, 128 bits for IPv6. */
interface Ip {
  readonly version: 4 | 6;
  readonly value: bigint;
}

const V4_MAX = 0xffff_ffffn;
const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96

/** One part of an inet_aton / WHATWG style IPv4 address: decimal, 0x hex or 0-prefixed octal. */
function parseV4Part(part: string): bigint | null {
  if (/^0[xX][0-9a-fA-F]*$/.test(part)) return part.length === 2 ? 0n : BigInt(`0x${part.slice(2)}`);
  if (/^0[0-7]+$/.test(part)) return BigInt(`0o${part.slice(1)}`);
  if (/^(0|[1-9][0-9]*)$/.test(part)) return BigInt(part);
  return null;
}

/**
 * IPv4 in any form getaddrinfo/inet_aton or the WHATWG URL parser accept: 1 to 4 parts, each
 * decimal, hex or octal, the last filling the remaining bytes (127.1, 2130706434, 0x7f.1,
 * 0177.0.0.1), with an optional trailing dot.
 */
function parseV4(input: string): Ip | null {
  const parts = input.split(".");
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  if (parts.length === 0 || parts.length > 4) return null;
  const nums: bigint[] = [];
  for (const part of parts) {
    if (part.length === 0 || part.length > 40) return null;
    const n = parseV4Part(part);
    if (n === null) return null;
    nums.push(n);
  }
  const last = nums.pop() ?? 0n;
  let value = 0n;
  for (const n of nums) {
    if (n > 255n) return null;
    value = (value << 8n) | n;
  }
  const restBits = BigInt(8 * (4 - nums.length));
  if (last >= 1n << restBits) return null;
  value = (value << restBits) | last;
  return { version: 4, value };
}

/** Strict dotted-quad (as allowed inside IPv6, e.g. ::ffff:10.0.0.1). */
function parseDottedQuad(input: string): bigint | null {
  const parts = input.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const n = BigInt(part);
    if (n > 255n) return null;
    value = (value << 8n) | n;
  }
  return value;
}

function parseV6Groups(text: string): bigint[] | null {
  if (text === "") return [];
  const groups = text.split(":");
  const words: bigint[] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] ?? "";
    if (i === groups.length - 1 && g.includes(".")) {
      const v4 = parseDottedQuad(g);
      if (v4 === null) return null;
      words.push(v4 >> 16n, v4 & 0xffffn);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      words.push(BigInt(`0x${g}`));
    }
  }
  return words;
}

/** IPv6 text form (RFC 4291 2.2), optionally with an embedded dotted quad and a %zone (ignored). */
function parseV6(input: string): Ip | null {
  const zone = input.indexOf("%");
  const text = zone === -1 ? input : input.slice(0, zone);
  if (zone !== -1 && zone === input.length - 1) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  let words: bigint[];
  if (halves.length === 2) {
    const head = parseV6Groups(halves[0] ?? "");
    const tail = parseV6Groups(halves[1] ?? "");
    if (head === null || tail === null) return null;
    // A dotted quad may only end the address.
    if ((halves[0] ?? "").includes(".")) return null;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    words = [...head, ...new Array<bigint>(missing).fill(0n), ...tail];
  } else {
    const all = parseV6Groups(text);
    if (all === null || all.length !== 8) return null;
    words = all;
  }
  let value = 0n;
  for (const w of words) value = (value << 16n) | w;
  return { version: 6, value };
}

/** Any IP literal form (bracketed IPv6 too) → parsed address; null for anything else. */
function parseIp(input: string): Ip | null {
  let text = input.trim();
  if (text.startsWith("[")) {
    if (!text.endsWith("]")) return null;
    return parseV6(text.slice(1, -1));
  }
  if (text.includes(":")) return parseV6(text);
  text = text.toLowerCase();
  return parseV4(text);
}

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join(".");
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (>= 2) of zero words as "::". */
function formatV6(value: bigint): string {
  if (value >> 32n === 0xffffn) return `::ffff:${formatV4(value & V4_MAX)}`;
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((value >> BigInt(16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (bestLen < 2) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

function formatIp(ip: Ip): string {
  return ip.version === 4 ? formatV4(ip.value) : formatV6(ip.value);
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

interface Range {
  readonly base: bigint;
  readonly prefix: number;
  readonly bits: 32 | 128;
}

function inRange(value: bigint, range: Range): boolean {
  const shift = BigInt(range.bits - range.prefix);
  return value >> shift === range.base >> shift;
}

function range(cidr: string): Range {
  const [addr = "", prefix = ""] = cidr.split("/");
  const ip = parseIp(addr);
  if (ip === null) throw new Error(`bad built-in range ${cidr}`);
  return { base: ip.value, prefix: Number(prefix), bits: ip.version === 4 ? 32 : 128 };
}

/** First match wins, so more specific ranges come first. */
const V4_CLASSES: ReadonlyArray<readonly [Range, AddressClass]> = (
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
).map(([cidr, cls]) => [range(cidr), cls] as const);

const V6_CLASSES: ReadonlyArray<readonly [Range, AddressClass]> = (
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
).map(([cidr, cls]) => [range(cidr), cls] as const);

const GLOBAL_UNICAST = range("2000::/3");
const V4_MAPPED = range("::ffff:0:0/96");
const V4_COMPATIBLE = range("::/96");
const NAT64 = range("64:ff9b::/96");
const SIX_TO_FOUR = range("2002::/16");
const TEREDO = range("2001::/32");

/** The IPv4 address an IPv6 address stands for (mapped, compatible, NAT64, 6to4, Teredo), if any. */
function embeddedV4(value: bigint): bigint | null {
  if (inRange(value, V4_MAPPED)) return value & V4_MAX;
  if (value > 1n && inRange(value, V4_COMPATIBLE)) return value & V4_MAX;
  if (inRange(value, NAT64)) return value & V4_MAX;
  if (inRange(value, SIX_TO_FOUR)) return (value >> 80n) & V4_MAX;
  if (inRange(value, TEREDO)) return (value & V4_MAX) ^ V4_MAX; // the client address, obfuscated
  return null;
}

function classifyV4(value: bigint): AddressClass {
  for (const [r, cls] of V4_CLASSES) if (inRange(value, r)) return cls;
  return "public";
}

interface Classification {
  readonly cls: AddressClass;
  /** The embedded IPv4 address the class was taken from, for IPv6 transition forms. */
  readonly via?: string;
}

function classifyIp(ip: Ip): Classification {
  if (ip.version === 4) return { cls: classifyV4(ip.value) };
  const v4 = embeddedV4(ip.value);
  if (v4 !== null) return { cls: classifyV4(v4), via: formatV4(v4) };
  for (const [r, cls] of V6_CLASSES) if (inRange(ip.value, r)) return { cls };
  return { cls: inRange(ip.value, GLOBAL_UNICAST) ? "public" : "reserved" };
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

/** As a 128-bit range; IPv4 becomes the IPv4-mapped IPv6 range so both families compare alike. */
function toV6Range(ip: Ip, prefix: number): Range {
  return ip.version === 4
    ? { base: MAPPED_PREFIX | ip.value, prefix: prefix + 96, bits: 128 }
    : { base: ip.value, prefix, bits: 128 };
}

function toV6Value(ip: Ip): bigint {
  return ip.version === 4 ? MAPPED_PREFIX | ip.value : ip.value;
}

function parseCidrRange(cidr: string): Range | null {
  const slash = cidr.indexOf("/");
  const addrText = (slash === -1 ? cidr : cidr.slice(0, slash)).trim();
  const ip = parseIp(addrText);
  if (ip === null) return null;
  const max = ip.version === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = cidr.slice(slash + 1).trim();
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  return toV6Range(ip, prefix);
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
  const allowed: Range[] = allowCidrs.map((cidr) => {
    const r = parseCidrRange(cidr);
    if (r === null) throw new TypeError(`invalid CIDR in the allow list: ${JSON.stringify(cidr)}`);
    return r;
  });

  const explain = (ip: string): string | null => {
    const parsed = parseIp(ip);
    if (parsed === null) return `${JSON.stringify(ip)} is not an IP address`;
    const v6 = toV6Value(parsed);
    if (allowed.some((r) => inRange(v6, r))) return null;
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
