/**
 * The stream between the gateway (host) and its sandbox process (sandbox-child.ts): a socket
 * pair on the child's fd 3, carrying records of UTF-8 text, each
 *
 *   <tag><n>,<n>,...,<length>:<body>
 *
 * one tag character, decimal numbers, the last of which is the body's length in bytes (written
 * zero-padded to 10 digits by FrameWriter, which encodes the body into place after its header), a
 * colon, then the body. Bodies are decoded from UTF-8 one by one, straight from the bytes read (a
 * lone surrogate, which only a caller's hand-made JSON can hold, crosses as U+FFFD).
 *
 * Host to child:
 * - `D<ref>,<len>:<JSON of RouteFunctions>` defines route `ref` (sources and limits, sent once
 *   per key and version to each child; a new child is sent them again).
 * - `F<ref>,<len>:` forgets route `ref` (replaced by a new version, or evicted).
 * - `C<id>,<ref>,<len>:<event JSON>` runs route `ref` on the event: the event's JSON crosses as
 *   the host holds it, neither escaped nor re-encoded. The calls for one route that the child
 *   reads at once run together (InlineSandbox.runManyRaw).
 * - `S<id>,<ref>,<len>:` runs route `ref` on the same event as the record before it (the routes of
 *   one walk follow each other: the event crosses once).
 * - `X<len>:<JSON of HostControl>`: test-only requests.
 * Calls made in the same tick are written together: a first piece of a few calls, so the child
 * starts at once, then pieces of up to ~256 KB.
 *
 * Child to host:
 * - `A<id>,<µs>,<len>:<envelope>`: the answer of call `id` that ran cleanly, as the isolate wrote
 *   it (envelope.ts), with the time its crossing took: neither parsed nor serialised again in the
 *   child.
 * - `M<len>:<JSON of ChildMessage>`: ready, alive, and after each batch of answers a `runs`
 *   message with the answers that are RouteRuns (failures found outside the isolate) and the
 *   child's figures. Answers finished in the same turn of the child's event loop (or while it
 *   worked on one chunk read from the stream) are written together.
 *
 * Everything the child sends is untrusted: a route that escaped its isolate would control the
 * child. The host only ever JSON.parses the child's records (whose framing it checks, with a cap
 * on their size) and checks the shape of every answer (readEnvelope, isRouteRun) before handing
 * it on.
 */
import { codesWhere } from "../errors.ts";
import type { RouteRun, SandboxErrorCode, SandboxHeapStatistics } from "./types.ts";

/** Test-only requests (the child honours them when started with DEBUG_FLAG). */
export type HostControl =
  /** Block the event loop forever. */
  | { t: "hang" }
  /** Answer the next runs out of protocol. */
  | { t: "garble" };

export type ChildMessage =
  /** Sent once, when the child has loaded and can take calls. */
  | { t: "ready" }
  /** Sent every HEARTBEAT_MS while the child has calls in flight: its event loop is turning. */
  | { t: "alive" }
  | {
      t: "runs";
      runs: RunAnswer[];
      /** Live isolates in the child, after these runs. */
      isolates: number;
      /** At most once per HEAP_EVERY_MS (it walks every isolate). */
      heap?: SandboxHeapStatistics;
    };

export const HEARTBEAT_MS = 200;
export const HEAP_EVERY_MS = 1000;
/** argv flag that enables the test-only requests. */
export const DEBUG_FLAG = "--hookgate-debug-hooks";
/** The child's end of the stream. */
export const STREAM_FD = 3;

/** Digits of a body's length as FrameWriter writes it (zero-padded): the header is written
 * before the body, whose length in bytes is only known once it is encoded. */
const LENGTH_DIGITS = 10;
/** Bytes FrameWriter allocates at a time (more for a record that needs more). */
const BLOCK = 65_536;

/**
 * Writes records straight into blocks of bytes and hands them to `out` once at least `chunk`
 * bytes are written, or on flush(). Each body is encoded from UTF-16 to UTF-8 once, into its
 * place after the header: no intermediate string, no separate pass to measure it.
 */
export class FrameWriter {
  readonly #out: (bytes: Buffer) => void;
  readonly #chunk: number;
  #block: Buffer = Buffer.alloc(0);
  #pos = 0;

  constructor(out: (bytes: Buffer) => void, chunk: number) {
    this.#out = out;
    this.#chunk = chunk;
  }

  /** Appends `<tag><nums>,<byte length of body>:<body>` (nums: "" or "1,2"). */
  add(tag: string, nums: string, body: string): void {
    const head = nums === "" ? tag : `${tag}${nums},`;
    // Room for the worst case (3 bytes per UTF-16 unit); a long body is measured instead.
    const room = body.length > BLOCK ? Buffer.byteLength(body, "utf8") : body.length * 3;
    const need = head.length + LENGTH_DIGITS + 1 + room;
    if (this.#block.length - this.#pos < need) this.#grow(need);
    const block = this.#block;
    const at = this.#pos + block.write(head, this.#pos, "latin1");
    const start = at + LENGTH_DIGITS + 1;
    let length = block.write(body, start, "utf8");
    this.#pos = start + length;
    block[start - 1] = COLON;
    for (let i = start - 2; i >= at; i--) {
      block[i] = ZERO + (length % 10);
      length = Math.floor(length / 10);
    }
    if (this.#pos >= this.#chunk) this.flush();
  }

  /** Hands over what was written since the last flush, if anything. */
  flush(): void {
    if (this.#pos === 0) return;
    const bytes = this.#block.subarray(0, this.#pos);
    // The rest of the block takes the next records; `bytes` now belongs to the stream.
    this.#block = this.#block.subarray(this.#pos);
    this.#pos = 0;
    this.#out(bytes);
  }

  #grow(need: number): void {
    this.flush();
    if (this.#block.length < need) this.#block = Buffer.allocUnsafe(Math.max(BLOCK, need));
  }
}

export interface Frame {
  tag: string;
  /** The numbers before the body's length. */
  nums: number[];
  body: string;
}

/** Longest `<tag><nums>:` header accepted, in bytes. */
const MAX_HEAD = 64;
const COLON = 58;
const COMMA = 44;
const ZERO = 48;
const NINE = 57;

/**
 * Splits the stream back into records. push() throws on anything out of format (the caller
 * treats the writer as broken); a record longer than maxBody bytes is out of format. Bodies are
 * decoded from UTF-8 one by one, straight from the bytes read.
 */
export class FrameReader {
  readonly #maxBody: number;
  /** Bytes read but not yet parsed: the start of an incomplete record. */
  #pending: Buffer[] = [];
  #size = 0;
  /** Bytes #pending must reach before that record is complete (0: not known yet). */
  #need = 0;

  constructor(maxBody: number) {
    this.#maxBody = maxBody;
  }

  push(chunk: Buffer): Frame[] {
    this.#pending.push(chunk);
    this.#size += chunk.length;
    const out: Frame[] = [];
    if (this.#size < this.#need) return out;
    const buf = this.#pending.length === 1 ? chunk : Buffer.concat(this.#pending, this.#size);
    this.#pending = [];
    this.#size = 0;
    this.#need = 0;
    let need = 0;
    let pos = 0;
    while (pos < buf.length) {
      const nums: number[] = [];
      let n = 0;
      let digits = 0;
      let i = pos + 1;
      let complete = false;
      for (; i < buf.length && i - pos <= MAX_HEAD; i++) {
        const c = buf[i] as number;
        if (c >= ZERO && c <= NINE) {
          n = n * 10 + c - ZERO;
          if (++digits > 15) throw new Error("bad record header");
        } else if (c === COMMA || c === COLON) {
          if (digits === 0) throw new Error("bad record header");
          nums.push(n);
          n = 0;
          digits = 0;
          if (c === COLON) {
            complete = true;
            break;
          }
        } else throw new Error("bad record header");
      }
      if (!complete) {
        if (i - pos > MAX_HEAD) throw new Error("bad record header");
        break;
      }
      const length = nums.pop() as number;
      if (length > this.#maxBody) throw new Error("record too long");
      const end = i + 1 + length;
      if (end > buf.length) {
        need = end - pos;
        break;
      }
      out.push({
        tag: String.fromCharCode(buf[pos] as number),
        nums,
        body: buf.toString("utf8", i + 1, end),
      });
      pos = end;
    }
    if (pos < buf.length) {
      const rest = buf.subarray(pos);
      this.#pending.push(rest);
      this.#size = rest.length;
      this.#need = need;
    }
    return out;
  }
}

const CODES: ReadonlySet<string> = new Set(codesWhere<SandboxErrorCode>((e) => e.stage === "sandbox"));

export function isErrorCode(x: unknown): x is SandboxErrorCode {
  return typeof x === "string" && CODES.has(x);
}

function isStep(x: unknown): boolean {
  if (x === null) return true;
  if (typeof x !== "object") return false;
  const s = x as Record<string, unknown>;
  if (typeof s.ok !== "boolean" || typeof s.durationMs !== "number" || !Array.isArray(s.logs)) return false;
  for (const line of s.logs) if (typeof line !== "string") return false;
  if (s.error !== undefined) {
    const e = s.error as Record<string, unknown> | null;
    if (typeof e !== "object" || e === null) return false;
    if (!isErrorCode(e.code) || typeof e.message !== "string") return false;
  }
  return true;
}

/** The shape of a RouteRun (values are whatever JSON the child sent: a map's output is any JSON). */
export function isRouteRun(x: unknown): x is RouteRun {
  if (typeof x !== "object" || x === null) return false;
  const r = x as Record<string, unknown>;
  return isStep(r.filter) && isStep(r.map);
}

export interface RunAnswer {
  id: number;
  run: RouteRun;
}
