/**
 * The `hookgate` standard library that route functions see as a frozen global (typed for editors
 * in functions/hookgate.d.ts).
 *
 * Like isolate-runtime.ts, `hookgateLibrary` is never called in the host: route-isolate.ts sends its
 * source into each isolate, where the runtime calls it once and installs the result as
 * `globalThis.hookgate` before deep-freezing the globals. So it must be self-contained (no
 * imports, nothing from outside its body) and pure: string and object manipulation only, no
 * state kept between calls. Every scan is a single linear pass (no backtracking regular
 * expressions), so hostile input costs time proportional to its length.
 *
 * - parseAddress("Ada <ada@x.com>") → {name, address, local, domain} | null
 * - addressList(value) → [{name, address}]: the from/to/cc shapes of EmailEngine ({name, address}),
 *   Stalwart and JMAP ({name, email}), Mailtrap ({email, name}), MailSlurp ("a@x" strings or
 *   {emailAddress, name}), Mailpilot and mailparser ({value: [...]}, {text}), and address-list
 *   strings ("Ada <a@x>, b@y"), as one array, in order, without entries that hold no address.
 * - domainOf(address) → lower-cased domain | null
 * - htmlToText(html, {maxLength?}) → readable text: no tags, scripts, styles or comments;
 *   entities decoded; block elements and <br> as line breaks; list items as "- ".
 * - escapeMrkdwn(s) → s with & < > escaped for Slack mrkdwn.
 * - truncate(s, n) → s cut to at most n characters ending in "…" (never inside a surrogate pair).
 * - parseUrl(s) → {href, protocol, username, password, host, hostname, port, pathname, search,
 *   hash, origin, searchParams} | null; searchParams is a plain object (repeated keys → arrays).
 */
export function hookgateLibrary(): unknown {
  const StringOf = String;
  const isArray = Array.isArray;
  const fromCodePoint = String.fromCodePoint;
  type Address = { name: string | null; address: string };
  type Parsed = Address & { local: string; domain: string };

  const text = (v: unknown): string => (typeof v === "string" ? v : v == null ? "" : StringOf(v));

  /** Split an address-list string on commas and semicolons outside quotes, angles and comments. */
  const splitList = (s: string): string[] => {
    const parts: string[] = [];
    let quoted = false;
    let angle = 0;
    let comment = 0;
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (c === "\\") i++;
      else if (c === '"' && comment === 0) quoted = !quoted;
      else if (quoted) continue;
      else if (c === "<") angle++;
      else if (c === ">" && angle > 0) angle--;
      else if (c === "(") comment++;
      else if (c === ")" && comment > 0) comment--;
      else if ((c === "," || c === ";") && angle === 0 && comment === 0) {
        parts.push(s.slice(start, i));
        start = i + 1;
      }
    }
    parts.push(s.slice(start));
    return parts;
  };

  const unquote = (s: string): string => {
    let t = s.trim();
    if (t.length >= 2 && t[0] === '"' && t[t.length - 1] === '"') {
      t = t.slice(1, -1).replace(/\\(.)/g, "$1");
    }
    return t.trim();
  };

  const split = (address: string): { local: string; domain: string } | null => {
    const at = address.lastIndexOf("@");
    if (at <= 0 || at === address.length - 1) return null;
    return { local: address.slice(0, at), domain: address.slice(at + 1).toLowerCase() };
  };

  const parseAddress = (input: unknown): Parsed | null => {
    if (input !== null && typeof input === "object") {
      const list = addressList(input);
      const first = list[0];
      if (first === undefined) return null;
      const parts = split(first.address);
      return parts && { name: first.name, address: first.address, ...parts };
    }
    const s = text(input).trim();
    if (s === "") return null;
    let name: string | null = null;
    let address: string;
    const open = s.lastIndexOf("<");
    const close = s.lastIndexOf(">");
    if (open !== -1 && close > open) {
      address = s.slice(open + 1, close).trim();
      const before = unquote(s.slice(0, open));
      name = before === "" ? null : before;
    } else {
      // "ada@x.com (Ada Lovelace)": the comment is the name
      const paren = s.indexOf("(");
      if (paren > 0 && s.endsWith(")")) {
        address = s.slice(0, paren).trim();
        const comment = s.slice(paren + 1, -1).trim();
        name = comment === "" ? null : comment;
      } else address = s;
    }
    if (address.toLowerCase().startsWith("mailto:")) address = address.slice(7);
    if (/\s/.test(address)) return null;
    const parts = split(address);
    return parts && { name, address, ...parts };
  };

  const NAME_KEYS = ["name", "displayName", "display_name", "fullName"];
  const ADDRESS_KEYS = ["address", "email", "emailAddress", "email_address", "addr", "mail"];
  const LIST_KEYS = ["value", "addresses", "emails", "recipients", "list"];

  const addressList = (value: unknown): Address[] => {
    const out: Address[] = [];
    const visit = (v: unknown, depth: number): void => {
      if (depth > 8 || v == null) return;
      if (typeof v === "string") {
        for (const part of splitList(v)) {
          const p = parseAddress(part);
          if (p !== null) out.push({ name: p.name, address: p.address });
        }
        return;
      }
      if (isArray(v)) {
        for (const item of v) visit(item, depth + 1);
        return;
      }
      if (typeof v !== "object") return;
      const o = v as Record<string, unknown>;
      for (const key of ADDRESS_KEYS) {
        const a = o[key];
        if (typeof a !== "string" || a.trim() === "") continue;
        let name: string | null = null;
        for (const nk of NAME_KEYS) {
          const n = o[nk];
          if (typeof n === "string" && n.trim() !== "") {
            name = n.trim();
            break;
          }
        }
        const p = parseAddress(a);
        if (p !== null) out.push({ name: name ?? p.name, address: p.address });
        return;
      }
      for (const key of LIST_KEYS) {
        if (o[key] != null) {
          visit(o[key], depth + 1);
          return;
        }
      }
      if (typeof o.text === "string") visit(o.text, depth + 1);
    };
    visit(value, 0);
    return out;
  };

  const domainOf = (address: unknown): string | null => parseAddress(address)?.domain ?? null;

  // ---- HTML to text ------------------------------------------------------------------------
  const NAMED: Record<string, string> = {
    amp: "&",
    lt: "<",
    gt: ">",
    quot: '"',
    apos: "'",
    nbsp: " ",
    ensp: " ",
    emsp: " ",
    thinsp: " ",
    hellip: "…",
    mdash: "—",
    ndash: "–",
    lsquo: "‘",
    rsquo: "’",
    ldquo: "“",
    rdquo: "”",
    laquo: "«",
    raquo: "»",
    bull: "•",
    middot: "·",
    copy: "©",
    reg: "®",
    trade: "™",
    euro: "€",
    pound: "£",
    yen: "¥",
    cent: "¢",
    sect: "§",
    deg: "°",
    times: "×",
    divide: "÷",
    zwnj: "",
    zwj: "",
    shy: "",
  };
  const decodeEntities = (s: string): string =>
    s.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/g, (m: string, body: string) => {
      if (body[0] === "#") {
        const hex = body[1] === "x" || body[1] === "X";
        const cp = Number.parseInt(body.slice(hex ? 2 : 1), hex ? 16 : 10);
        if (!(cp > 0 && cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) return "\ufffd";
        return fromCodePoint(cp);
      }
      const named = NAMED[body.toLowerCase()];
      return named === undefined ? m : named;
    });
  const BLOCK =
    /^(p|div|br|hr|tr|table|ul|ol|li|h[1-6]|blockquote|pre|section|article|header|footer|title|dd|dt|dl|address|center|form|fieldset|figure|figcaption|nav|main|aside)$/;
  const SKIP = /^(script|style|head|template|noscript|svg|object|iframe|xml)$/;

  const htmlToText = (html: unknown, options?: { maxLength?: number }): string => {
    const s = text(html);
    let lower: string | null = null;
    let out = "";
    let i = 0;
    while (i < s.length) {
      const lt = s.indexOf("<", i);
      if (lt === -1) {
        out += s.slice(i);
        break;
      }
      out += s.slice(i, lt);
      if (s.startsWith("<!--", lt)) {
        const end = s.indexOf("-->", lt + 4);
        i = end === -1 ? s.length : end + 3;
        continue;
      }
      const gt = s.indexOf(">", lt + 1);
      if (gt === -1) {
        out += s.slice(lt);
        break;
      }
      const tag = s.slice(lt + 1, gt);
      const closing = tag[0] === "/";
      let n = closing ? 1 : 0;
      let name = "";
      while (n < tag.length && /[A-Za-z0-9]/.test(tag[n] as string)) name += tag[n++];
      name = name.toLowerCase();
      i = gt + 1;
      if (name === "") {
        // "<!DOCTYPE", "<?xml", or a lone "<" in text
        if (tag[0] !== "!" && tag[0] !== "?") out += s.slice(lt, gt + 1);
        continue;
      }
      if (!closing && SKIP.test(name) && !tag.endsWith("/")) {
        lower ??= s.toLowerCase();
        const end = lower.indexOf(`</${name}`, i);
        if (end === -1) break;
        const endGt = s.indexOf(">", end);
        i = endGt === -1 ? s.length : endGt + 1;
        continue;
      }
      if (name === "li") out += closing ? "" : "\n- ";
      else if (name === "td" || name === "th") out += closing ? "" : " ";
      else if (BLOCK.test(name)) out += "\n";
    }
    let result = decodeEntities(out)
      .replace(/\r\n?/g, "\n")
      .replace(/[ \t\f\v\u00a0]+/g, " ")
      .replace(/ ?\n ?/g, "\n")
      .replace(/\n{3,}/g, "\n\n")
      .trim();
    const max = options?.maxLength;
    if (typeof max === "number" && max >= 0) result = truncate(result, max);
    return result;
  };

  // ---- small string helpers ----------------------------------------------------------------
  const escapeMrkdwn = (s: unknown): string =>
    text(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

  const truncate = (s: unknown, n: unknown): string => {
    const str = text(s);
    const max = Math.max(0, Math.floor(Number(n)));
    if (!(str.length > max)) return str;
    if (max === 0) return "";
    let cut = max - 1;
    const last = str.charCodeAt(cut - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut--;
    return `${str.slice(0, cut)}…`;
  };

  // ---- URLs ----------------------------------------------------------------------------------
  const DEFAULT_PORTS: Record<string, string> = {
    "http:": "80",
    "https:": "443",
    "ws:": "80",
    "wss:": "443",
  };
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, " "));
    } catch {
      return s;
    }
  };
  const parseQuery = (search: string): Record<string, string | string[]> => {
    const params: Record<string, string | string[]> = Object.create(null);
    const q = search.startsWith("?") ? search.slice(1) : search;
    if (q === "") return params;
    for (const pair of q.split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const key = decode(eq === -1 ? pair : pair.slice(0, eq));
      const value = decode(eq === -1 ? "" : pair.slice(eq + 1));
      const prev = params[key];
      if (prev === undefined) params[key] = value;
      else if (isArray(prev)) prev.push(value);
      else params[key] = [prev, value];
    }
    return params;
  };
  const URL_PATTERN =
    /^([a-zA-Z][a-zA-Z0-9+.-]*):(?:\/\/(?:([^:@/?#]*)(?::([^@/?#]*))?@)?(\[[0-9a-fA-F:.]+\]|[^:/?#[\]]*)(?::([0-9]*))?)?([^?#]*)(\?[^#]*)?(#.*)?$/;

  const parseUrl = (input: unknown) => {
    const s = text(input).trim();
    if (s.length > 8192) return null;
    const m = URL_PATTERN.exec(s.replace(/[\t\n\r]/g, ""));
    if (m === null) return null;
    const protocol = `${(m[1] as string).toLowerCase()}:`;
    const hasAuthority = m[4] !== undefined;
    const hostname = (m[4] ?? "").toLowerCase();
    const special = DEFAULT_PORTS[protocol] !== undefined || protocol === "ftp:";
    if (special && (!hasAuthority || hostname === "")) return null;
    let port = m[5] ?? "";
    if (port !== "" && Number(port) > 65535) return null;
    if (port === DEFAULT_PORTS[protocol]) port = "";
    const host = port === "" ? hostname : `${hostname}:${port}`;
    let pathname = m[6] ?? "";
    if (special && pathname === "") pathname = "/";
    const search = m[7] === "?" ? "" : (m[7] ?? "");
    const hash = m[8] === "#" ? "" : (m[8] ?? "");
    const username = m[2] ?? "";
    const password = m[3] ?? "";
    const auth = username || password ? `${username}${password ? `:${password}` : ""}@` : "";
    const origin = special ? `${protocol}//${host}` : "null";
    const href = `${protocol}${hasAuthority ? `//${auth}${host}` : ""}${pathname}${search}${hash}`;
    return {
      href,
      protocol,
      username,
      password,
      host,
      hostname,
      port,
      pathname,
      search,
      hash,
      origin,
      searchParams: parseQuery(search),
    };
  };

  return {
    parseAddress,
    addressList,
    domainOf,
    htmlToText,
    escapeMrkdwn,
    truncate,
    parseUrl,
    parseQuery,
  };
}
