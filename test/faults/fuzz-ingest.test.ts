import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import { createHmac } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { Sink } from "../helpers/sink.ts";
import {
  type Answer,
  anyJson,
  assertCleanAnswer,
  brokenBytes,
  contentTypes,
  mutationOf,
} from "./fuzz-inputs.ts";

/*
 * The ingest endpoint of every source kind, fuzzed past its authentication: random bodies are
 * signed the way each sender signs, so the adapters' parsing and normalising see them; unsigned
 * or wrongly signed ones must be a clean 401. Then requests node's HTTP parser itself refuses,
 * over a real socket: they too get the one error shape, and the server keeps serving.
 */

const MAX_BODY = 64 * 1024;
const RUNS = Number(process.env.HOOKGATE_FUZZ_RUNS ?? 150);
const WHSEC = `whsec_${Buffer.from("fuzz-standard-webhooks-secret-0123").toString("base64")}`;

let redis: RedisServer;
let sink: Sink;
let gw: TestGateway;

interface FuzzSource {
  kind: string;
  id: string;
  /** The headers a genuine sender adds for this body. */
  sign: (body: Buffer) => Record<string, string>;
}
const sources: FuzzSource[] = [];

const hmac = (body: Buffer, enc: "base64" | "base64url" | "hex") =>
  createHmac("sha256", "fuzz-secret-0123456789").update(body).digest(enc);

const samples: Record<string, unknown[]> = {};
function samplesOf(kind: string): unknown[] {
  if (!samples[kind]) {
    const dir = new URL(`../../samples/sources/${kind}/`, import.meta.url);
    samples[kind] = readdirSync(dir).map((f) => JSON.parse(readFileSync(new URL(f, dir), "utf8")));
  }
  return samples[kind] as unknown[];
}

before(async () => {
  redis = await startRedisServer({ appendonly: false });
  sink = await new Sink().listen();
  // The API alone: these events are stored, not walked; delivery is not what is fuzzed here.
  gw = await startTestGateway(redis.url, { HOOKGATE_MAX_BODY_BYTES: String(MAX_BODY), HOOKGATE_ROLE: "api" });
  const secret = "fuzz-secret-0123456789";
  const specs: [Record<string, unknown>, FuzzSource["sign"]][] = [
    [{ kind: "emailengine", secret }, (b) => ({ "x-ee-wh-signature": hmac(b, "base64url") })],
    [{ kind: "stalwart", secret }, (b) => ({ "x-signature": hmac(b, "base64") })],
    [{ kind: "mailtrap", secret }, (b) => ({ "x-mailtrap-signature": hmac(b, "hex") })],
    [
      { kind: "standard-webhooks", secret: WHSEC },
      (b) => {
        // Signed over the raw bytes (the library signs a string, which is not these bytes when
        // they are not UTF-8).
        const id = `msg_${Math.random().toString(36).slice(2)}`;
        const ts = String(Math.floor(Date.now() / 1000));
        const key = Buffer.from(WHSEC.slice("whsec_".length), "base64");
        const mac = createHmac("sha256", key).update(Buffer.concat([Buffer.from(`${id}.${ts}.`), b]));
        return {
          "webhook-id": id,
          "webhook-timestamp": ts,
          "webhook-signature": `v1,${mac.digest("base64")}`,
        };
      },
    ],
    [
      { kind: "mailslurp", auth: { type: "header", name: "x-token", value: "fuzz-token-0123" } },
      () => ({ "x-token": "fuzz-token-0123" }),
    ],
    [
      { kind: "mailpilot", auth: { type: "basic", username: "u", password: "p" } },
      () => ({ authorization: `Basic ${Buffer.from("u:p").toString("base64")}` }),
    ],
    [{ kind: "generic" }, () => ({})],
  ];
  for (const [fields, sign] of specs) {
    const res = await gw.call("POST", "/v1/sources", { name: "fuzz", ...fields });
    assert.equal(res.status, 201, JSON.stringify(res.json));
    sources.push({ kind: String(fields.kind), id: res.json.id, sign });
  }
});

after(async () => {
  await gw?.close();
  await sink?.close();
  await redis?.stop();
});

async function ingest(id: string, payload: Buffer, headers: Record<string, string>): Promise<Answer> {
  const res = await gw.app.inject({ method: "POST", url: `/v1/ingest/${id}`, headers, payload });
  return { statusCode: res.statusCode, headers: res.headers, body: res.body };
}

/** A sender's body: one of its real samples with one change, any JSON, or broken bytes. */
function bodyOf(kind: string): fc.Arbitrary<Buffer> {
  const list = kind === "standard-webhooks" || kind === "generic" ? samplesOf("generic") : samplesOf(kind);
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.oneof(...list.map(mutationOf)).map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
    },
    { weight: 2, arbitrary: anyJson.map((v) => Buffer.from(JSON.stringify(v) ?? "null")) },
    { weight: 1, arbitrary: brokenBytes },
  );
}

const describeIngest = (s: FuzzSource, body: Buffer, type: string) =>
  `POST /v1/ingest/${s.kind} as ${type}: ${body.toString("utf8").slice(0, 300)}`;

describe("ingest fuzzing", () => {
  it("answers signed bodies of any shape with a 200 or a clean 4xx", async () => {
    for (const source of sources) {
      await fc.assert(
        fc.asyncProperty(bodyOf(source.kind), contentTypes, async (body, type) => {
          const res = await ingest(source.id, body, { "content-type": type, ...source.sign(body) });
          assertCleanAnswer(res, describeIngest(source, body, type));
        }),
        { numRuns: RUNS },
      );
    }
  });

  it("refuses signed bodies that are not UTF-8 with a clean 400", async () => {
    const notUtf8 = fc
      .oneof(
        brokenBytes,
        anyJson.map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
      )
      .map((b) =>
        Buffer.concat([
          b.subarray(0, b.length >> 1),
          Buffer.from([0xed, 0xa0, 0x80]),
          b.subarray(b.length >> 1),
        ]),
      )
      .filter((b) => !isUtf8(b));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...sources), notUtf8, async (source, body) => {
        const res = await ingest(source.id, body, {
          "content-type": "application/json",
          ...source.sign(body),
        });
        assertCleanAnswer(res, describeIngest(source, body, "application/json"), true);
        // Over the body limit it is a 413 before anything is read.
        assert.ok([400, 413].includes(res.statusCode), `${res.statusCode} for ${source.kind}`);
      }),
      { numRuns: RUNS },
    );
  });

  it("refuses unsigned and wrongly signed bodies with a clean 401", async () => {
    const signed = sources.filter((s) => s.kind !== "generic");
    const wrong = fc.oneof(
      fc.constant({}),
      fc.record({
        "x-ee-wh-signature": fc.base64String(),
        "x-signature": fc.base64String(),
        "x-mailtrap-signature": fc.string(),
        "webhook-id": fc.string({ minLength: 1 }).filter((s) => /^[\x21-\x7e]+$/.test(s)),
        "webhook-timestamp": fc.constantFrom(
          "0",
          "99999999999",
          String(Math.floor(Date.now() / 1000)),
          "-1",
          "1e3",
        ),
        "webhook-signature": fc.constantFrom("v1,", "v1,AAAA", "v2,x v1,y", ""),
        authorization: fc.constantFrom("Basic dTpx", "Bearer x", "Basic", "Basic !!!"),
        "x-token": fc.string(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...signed),
        fc.integer({ min: 0, max: 6 }),
        wrong,
        async (source, pick, headers) => {
          const body = Buffer.from(
            JSON.stringify(
              samplesOf(source.kind === "standard-webhooks" ? "generic" : source.kind)[pick % 2],
            ),
          );
          const printable = Object.fromEntries(
            Object.entries(headers).filter(([, v]) => /^[\x20-\x7e]*$/.test(v)),
          );
          const res = await ingest(source.id, body, { "content-type": "application/json", ...printable });
          assertCleanAnswer(res, describeIngest(source, body, JSON.stringify(printable)), true);
          assert.equal(res.statusCode, 401, describeIngest(source, body, JSON.stringify(printable)));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("requests the HTTP parser refuses", () => {
  let port = 0;
  before(async () => {
    await gw.app.listen({ port: 0, host: "127.0.0.1" });
    port = (gw.app.server.address() as { port: number }).port;
  });

  /** Writes raw bytes to the server and reads until it closes the connection. */
  function raw(bytes: Buffer | string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      let out = "";
      socket.setTimeout(10_000, () => socket.destroy(new Error("no answer in 10 s")));
      socket.on("data", (c) => {
        out += c.toString("latin1");
      });
      socket.on("close", () => resolve(out));
      socket.on("error", (err) =>
        (err as { code?: string }).code === "ECONNRESET" ? resolve(out) : reject(err),
      );
      socket.end(bytes);
    });
  }

  function parse(response: string): Answer {
    const [head = "", body = ""] = response.split("\r\n\r\n");
    const [status = "", ...lines] = head.split("\r\n");
    const headers = Object.fromEntries(
      lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
    );
    return { statusCode: Number(status.split(" ")[1]), headers, body };
  }

  const requests: [string, string | Buffer][] = [
    ["a request line that is not HTTP", "HELLO\r\n\r\n"],
    ["a header without a colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n"],
    ["a control character in a header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n"],
    [
      "two content lengths",
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
    ],
    ["a negative content length", "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"],
    [
      "a broken chunk",
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    ],
    ["headers over the limit", `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`],
    [
      "bytes that are not UTF-8 in the path",
      Buffer.from("GET /v1/routes/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", "latin1"),
    ],
  ];
  for (const [what, bytes] of requests) {
    it(`answers ${what} with a clean 4xx`, async () => {
      const answer = parse(await raw(bytes));
      assertCleanAnswer(answer, what, true);
    });
  }

  it("still serves after all of them", async () => {
    const answer = parse(await raw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    assert.equal(answer.statusCode, 200);
  });
});
