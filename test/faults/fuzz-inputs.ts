import assert from "node:assert/strict";
import fc from "fast-check";
import { ErrorCatalog } from "../../src/errors.ts";

/*
 * Generators of malformed input and the one check every answer must pass. Strings never spell
 * `http`, so no generated value can become a target URL that a route would send to: the only
 * address the fuzzed gateway may reach is the test's own loopback sink.
 */

const spellsHttp = /h[\t\n\r]*t[\t\n\r]*t[\t\n\r]*p/i;

export const oddString: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 4, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        "",
        " ",
        "\u0000",
        "\ud800",
        "\udfff\ud800",
        "\u202e\u200b",
        "💥👩‍👩‍👧",
        "__proto__",
        "constructor",
        "toString",
        "../../etc/passwd",
        "%",
        "%00",
        "%ZZ",
        "rte_",
        "rte_zzzzzzzzzzzzzzzzzzzz",
        "src_",
        "dlv_",
        "*",
        "?",
        "null",
        "{}",
        "1e309",
        "-0",
        "NaN",
        "2026-13-45T99:99:99Z",
        "javascript:alert(1)",
        "export default (e) => { while (true) {} }",
      ),
    },
    // Long enough to pass every max() of the schemas and to reach the body limit.
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }).map((n) => "ä💥x".repeat(10 ** n)) },
  )
  .filter((s) => !spellsHttp.test(s));

const oddNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e308, -1e308, 2 ** 53 + 2, 0.5, -1),
);

/** Any JSON value, built from odd strings and numbers, a few levels deep. */
export const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    oddString,
    oddNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(oddString, tie("value"), { maxKeys: 5 }),
  ),
})).value;

type Path = (string | number)[];

function pathsOf(value: unknown, at: Path = []): Path[] {
  if (value === null || typeof value !== "object") return [at];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [at, ...entries.flatMap(([k, v]) => pathsOf(v, [...at, k]))];
}

function edit(
  value: unknown,
  path: Path,
  op: "replace" | "delete" | "add",
  next: unknown,
  key: string,
): unknown {
  const copy = structuredClone(value);
  if (path.length === 0) return op === "replace" ? next : copy;
  let parent = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  if (op === "replace") parent[last] = next;
  else if (op === "delete") delete parent[last];
  else if (typeof parent[last] === "object" && parent[last] !== null) {
    Object.defineProperty(parent[last], key, { value: next, enumerable: true, writable: true });
  } else parent[last] = next;
  return copy;
}

/** A valid body with one place changed: a value replaced by any JSON, a field removed or added. */
export function mutationOf(valid: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(valid);
  return fc
    .tuple(
      fc.constantFrom(...paths),
      fc.constantFrom("replace" as const, "delete" as const, "add" as const),
      anyJson,
      oddString,
    )
    .map(([path, op, next, key]) => edit(valid, path, op, next, key));
}

/** Valid bodies, bodies one change away from valid, and anything at all. */
export function bodyFor(valid: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(...valid) },
    { weight: 4, arbitrary: fc.oneof(...valid.map(mutationOf)) },
    { weight: 2, arbitrary: anyJson },
  );
}

/** Bytes that are not JSON, or not UTF-8, or both. */
export const brokenBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.constantFrom(
    Buffer.from([0xc3, 0x28]),
    Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
    Buffer.from('{"type": "\xed\xa0\x80", "data": {}}', "latin1"),
    Buffer.from('{"name": "\xc0\xaf"}', "latin1"),
    Buffer.from("\ufeff{}"),
    Buffer.from("{"),
    Buffer.from('{"a":1}{"b":2}'),
    Buffer.from("[".repeat(5000)),
    Buffer.from(`${"[".repeat(3000)}${"]".repeat(3000)}`),
    Buffer.from('{"__proto__": {"admin": true}}'),
    Buffer.from('{"constructor": {"prototype": {"x": 1}}}'),
    Buffer.from(""),
  ),
);

export const contentTypes = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=utf-16le",
    "application/json;;",
    "APPLICATION/JSON",
    "text/plain",
    "text/javascript",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "*/*",
    "",
  ),
  oddString.filter((s) => /^[\x20-\x7e]*$/.test(s)),
);

/** A path segment: odd strings, percent-encoded or not, and broken encodings. */
export const oddSegment = fc.oneof(
  oddString.map((s) => encodeURIComponent(s.toWellFormed())),
  fc.constantFrom("%", "%E0%A4%A", "%C0%AF", "%FF", "..", ".", "%2e%2e", "a%2Fb", "x".repeat(3000)),
);

/** Query strings with repeated, empty, odd and unknown keys. */
export const oddQuery = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom("limit", "status", "routeId", "before", "since", "kind"), oddString),
      fc.oneof(
        oddString,
        fc.constantFrom("0", "-1", "501", "1.5", "1e3", "failed", "2026-01-01T00:00:00Z", "now"),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) =>
    pairs.length === 0
      ? ""
      : `?${pairs.map(([k, v]) => `${encodeURIComponent(k.toWellFormed())}=${encodeURIComponent(v.toWellFormed())}`).join("&")}`,
  );

export interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/**
 * No 5xx, nothing but 2xx or 4xx, and every 4xx in the one error shape with its catalog status.
 * With `mustRefuse`, the input is malformed by construction and must be a 4xx.
 */
export function assertCleanAnswer(res: Answer, what: string, mustRefuse = false): void {
  const where = `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`;
  assert.ok(res.statusCode < 500, `server error: ${where}`);
  if (res.statusCode < 300 && !mustRefuse) return;
  assert.ok(res.statusCode >= 400 && res.statusCode < 500, `not a 4xx: ${where}`);
  assert.match(String(res.headers["content-type"] ?? ""), /^application\/json/, `content type: ${where}`);
  let parsed: unknown;
  assert.doesNotThrow(() => {
    parsed = JSON.parse(res.body);
  }, `not JSON: ${where}`);
  const body = parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } };
  assert.deepEqual(Object.keys(body ?? {}), ["error"], `shape: ${where}`);
  const { code, message } = body.error ?? {};
  assert.equal(typeof code, "string", `code: ${where}`);
  assert.ok((code as string) in ErrorCatalog, `unknown code: ${where}`);
  assert.equal(
    ErrorCatalog[code as keyof typeof ErrorCatalog].status,
    res.statusCode,
    `status of ${code}: ${where}`,
  );
  assert.ok(typeof message === "string" && message.length > 0, `message: ${where}`);
  const keys = Object.keys(body.error ?? {}).filter((k) => !["code", "message", "details"].includes(k));
  assert.deepEqual(keys, [], `extra fields: ${where}`);
}
