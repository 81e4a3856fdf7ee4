import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { envelopeMs, readEnvelope, runOf } from "../../../src/sandbox/envelope.ts";
import { type Frame, FrameReader, FrameWriter } from "../../../src/sandbox/protocol.ts";

/** Everything a writer hands over, as one byte string. */
function written(chunk: number, records: Array<[string, string, string]>): { bytes: Buffer; writes: number } {
  const parts: Buffer[] = [];
  const writer = new FrameWriter((bytes) => parts.push(Buffer.from(bytes)), chunk);
  for (const [tag, nums, body] of records) writer.add(tag, nums, body);
  writer.flush();
  return { bytes: Buffer.concat(parts), writes: parts.length };
}

/** The frames read back when the bytes arrive in pieces of `piece` bytes. */
function readBack(bytes: Buffer, piece: number, maxBody = 2 ** 20): Frame[] {
  const reader = new FrameReader(maxBody);
  const frames: Frame[] = [];
  for (let i = 0; i < bytes.length; i += piece) frames.push(...reader.push(bytes.subarray(i, i + piece)));
  return frames;
}

describe("sandbox stream records", () => {
  const records: Array<[string, string, string]> = [
    ["C", "1,7", JSON.stringify({ id: "evt_1", subject: "Rechnung für Müller 🧾", n: 1 })],
    ["F", "7", ""],
    ["D", "8", JSON.stringify({ key: "r@1", filter: "export default () => true", map: null })],
    ["M", "", JSON.stringify({ t: "ready" })],
    ["A", "12,345", "x".repeat(70_000)],
    ["C", "2,8", "\u2028\u00e9\ud83d\ude00 ok"],
  ];

  it("reads back exactly what was written, however the bytes are split", () => {
    const { bytes } = written(32_768, records);
    for (const piece of [1, 3, 17, 4096, 65_536, bytes.length]) {
      const frames = readBack(bytes, piece);
      assert.deepEqual(
        frames.map((f) => [f.tag, f.nums.join(","), f.body]),
        records.map(([tag, nums, body]) => [tag, nums, body]),
        `pieces of ${piece} bytes`,
      );
    }
  });

  it("states each body's length in UTF-8 bytes, and hands bytes over once a chunk is full", () => {
    const { bytes, writes } = written(1000, [
      ["C", "1,1", "é".repeat(600)],
      ["C", "2,1", "a"],
    ]);
    assert.equal(bytes.subarray(0, 16).toString("latin1"), "C1,1,0000001200:");
    assert.equal(writes, 2, "the first record filled a chunk");
  });

  it("a lone surrogate crosses as U+FFFD, with a length that matches", () => {
    const [frame] = readBack(written(1024, [["C", "1,1", `a\ud800b`]]).bytes, 2);
    assert.equal(frame?.body, "a\ufffdb");
  });

  it("refuses records out of format or over the size limit", () => {
    assert.throws(() => new FrameReader(100).push(Buffer.from("C1,x:abc")), /bad record header/);
    assert.throws(() => new FrameReader(100).push(Buffer.from(`C${"1".repeat(16)}:`)), /bad record header/);
    assert.throws(() => new FrameReader(100).push(Buffer.from(`C${"1,".repeat(40)}`)), /bad record header/);
    assert.throws(() => new FrameReader(100).push(Buffer.from("C1,101:")), /record too long/);
  });
});

describe("envelopes", () => {
  const filter = { ok: true, value: true, ms: 3, logs: ["[log] hi"] };
  const map = { ok: true, ms: 1, logs: [] };
  const text = JSON.stringify({ ms: 4, h: { f: filter, m: map }, v: { n: 1 } });

  it("reads ms from the first characters only", () => {
    assert.equal(envelopeMs(text), 4);
    assert.equal(envelopeMs('{"ms":12,"h":{"f":null,"m":null}}'), 12);
    assert.equal(envelopeMs('{"x":"sandbox runtime error"}'), null);
    assert.equal(envelopeMs('{"ms":,"h":{}}'), null);
    assert.equal(envelopeMs('{"ms":1}'), null);
  });

  it("turns a head and a value into a RouteRun, splitting the host's time by the isolate's", () => {
    const env = readEnvelope(text);
    assert.ok(env?.h);
    assert.deepEqual(runOf(env.h, env.v, 8), {
      filter: { ok: true, value: true, logs: ["[log] hi"], durationMs: 6 },
      map: { ok: true, value: { n: 1 }, logs: [], durationMs: 2 },
    });
    const failedMap = {
      ok: false,
      ms: 0,
      logs: [],
      code: "HG_ERR_SANDBOX_OUTPUT" as const,
      message: "too big",
    };
    assert.deepEqual(runOf({ f: null, m: failedMap }, undefined, 1).map, {
      ok: false,
      logs: [],
      durationMs: 1,
      error: { code: "HG_ERR_SANDBOX_OUTPUT", message: "too big" },
    });
  });

  it("fails the map with its load error when the filter passed and the map could not run", () => {
    const error = { code: "HG_ERR_SANDBOX_SYNTAX" as const, message: "Unexpected token (line 1, column 3)" };
    assert.deepEqual(runOf({ f: filter, m: null }, undefined, 1, error).map, {
      ok: false,
      logs: [],
      durationMs: 0,
      error,
    });
    assert.equal(runOf({ f: { ...filter, value: false }, m: null }, undefined, 1, error).map, null);
  });

  it("refuses envelopes of the wrong shape (they come from a process that runs user code)", () => {
    for (const bad of [
      "not json",
      "null",
      '{"x":"runtime error"}',
      JSON.stringify({ ms: 0, h: { f: { ...filter, ok: "yes" }, m: null } }),
      JSON.stringify({ ms: 0, h: { f: { ...filter, logs: [1] }, m: null } }),
      JSON.stringify({ ms: 0, h: { f: { ...filter, value: "true" }, m: null } }),
      JSON.stringify({ ms: 0, h: { f: null, m: { ...map, ok: false, code: "HG_ERR_OTHER" } } }),
      JSON.stringify({ ms: 0, h: { f: null } }),
    ]) {
      assert.equal(readEnvelope(bad), null, bad);
    }
  });
});
