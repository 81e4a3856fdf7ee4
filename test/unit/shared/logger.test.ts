import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { connectionErrorKind, createLogger, errorReporter, ReportLimit } from "../../../src/shared/logger.ts";

/** A real pino logger writing its JSON lines here. */
function collecting(level = "info") {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger(level, stream), lines };
}

const refused = () =>
  Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" });

describe("errorReporter", () => {
  it("logs every other error at error level with its stage, stack and context", async () => {
    const { logger, lines } = collecting();
    const report = errorReporter(logger, "walker");
    report(new Error("boom"), { eventId: "evt_1" });
    report(new Error("boom"), { eventId: "evt_2" });
    await new Promise((r) => setImmediate(r));
    assert.equal(lines.length, 2);
    const [first] = lines as [Record<string, unknown>];
    assert.equal(first.level, 50);
    assert.equal(first.stage, "walker");
    assert.equal(first.eventId, "evt_1");
    assert.equal(first.msg, "boom");
    assert.match(String((first.err as { stack?: string }).stack), /Error: boom/);
  });

  it("logs a connection error at warn once a second per kind, with how many it left out", async () => {
    const { logger, lines } = collecting();
    let now = 10_000;
    const report = errorReporter(logger, "delivery-worker", { now: () => now });
    report(refused());
    report(refused());
    report(new Error("Connection is closed."));
    now += 999;
    report(refused());
    now += 1;
    report(refused());
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.repeated]),
      [
        [40, "connect ECONNREFUSED 127.0.0.1:6379", undefined],
        [40, "Connection is closed.", undefined],
        [40, "connect ECONNREFUSED 127.0.0.1:6379", 2],
      ],
    );
  });

  it("logs nothing below the logger's level", async () => {
    const { logger, lines } = collecting("error");
    errorReporter(logger, "stats")(refused());
    errorReporter(logger, "stats")(new Error("kept"));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      lines.map((l) => l.msg),
      ["kept"],
    );
  });
});

describe("connectionErrorKind", () => {
  it("tells Redis being away from other errors", () => {
    assert.equal(connectionErrorKind(refused()), "ECONNREFUSED");
    assert.equal(connectionErrorKind(new Error("Connection is closed.")), "Connection is closed");
    assert.equal(connectionErrorKind(new Error("NOGROUP No such key")), null);
    assert.equal(connectionErrorKind("plain text"), null);
  });
});

describe("ReportLimit", () => {
  it("lets one through per key per period and counts the others", () => {
    const limit = new ReportLimit(1000);
    assert.deepEqual(
      [limit.take("a", 0), limit.take("a", 500), limit.take("b", 500), limit.take("a", 1000)],
      [0, null, 0, 1],
    );
  });
});

describe("createLogger", () => {
  it("redacts a request's bearer token and cookie", async () => {
    const { logger, lines } = collecting();
    logger.info(
      { req: { headers: { authorization: "Bearer secret", cookie: "s=1", host: "h" } } },
      "request",
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual((lines[0] as { req: unknown }).req, {
      headers: { authorization: "[redacted]", cookie: "[redacted]", host: "h" },
    });
  });
});
