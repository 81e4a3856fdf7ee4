import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { apiClient, GatewayProcess } from "../faults/gateway-process.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { Sink } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * A request that reaches a gateway while it shuts down is refused in the one error shape. Such a
 * request can only arrive on a connection the server keeps open because a request on it is still
 * in flight: here a route test held by the sink, with the next request pipelined behind it once
 * the listener is closed (which fastify does only after it has started closing).
 */

const TOKEN = "test-token-shutdown-requests";
let redis: RedisServer;
let sink: Sink;
let gw: GatewayProcess;

before(async () => {
  redis = await startRedisServer({ appendonly: false });
  sink = await new Sink().listen();
  gw = await GatewayProcess.start({ redisUrl: redis.url, token: TOKEN });
});

after(async () => {
  await gw?.dispose();
  await sink?.close();
  await redis?.stop();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The responses in what one HTTP/1.1 connection received (each with a Content-Length). */
function parseResponses(raw: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) throw new Error(`incomplete response: ${rest}`);
    const [statusLine = "", ...lines] = rest.slice(0, end).split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"]);
    if (!Number.isInteger(length)) throw new Error(`no content-length in: ${statusLine}`);
    out.push({
      status: Number(statusLine.split(" ")[1]),
      headers,
      body: rest.slice(end + 4, end + 4 + length),
    });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

function listenerClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(port, "127.0.0.1");
    probe.once("connect", () => {
      probe.destroy();
      resolve(false);
    });
    probe.once("error", (err: Error & { code?: string }) => resolve(err.code === "ECONNREFUSED"));
  });
}

describe("requests that arrive during shutdown", () => {
  it("are answered 503 with HG_ERR_SHUTTING_DOWN in the one error shape, and the gateway still exits cleanly", async () => {
    const call = apiClient(gw.url, TOKEN);
    const created = await call("POST", "/v1/routes", {
      name: "held",
      target: { url: sink.url(), signing: { scheme: "none" } },
    });
    assert.equal(created.status, 201);
    const release = Promise.withResolvers<void>();
    sink.respond = () => ({ status: 200, body: "ok", until: release.promise });

    const socket: Socket = connect(gw.port, "127.0.0.1");
    let received = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    const auth = `Authorization: Bearer ${TOKEN}\r\nHost: 127.0.0.1\r\n`;
    socket.write(`POST /v1/routes/${created.json.id}/test HTTP/1.1\r\n${auth}Content-Length: 0\r\n\r\n`);
    // The route test is in flight once its request reached the sink.
    await sink.waitFor(1);

    const exited = gw.stop();
    await waitUntil(() => listenerClosed(gw.port), 15_000, "the gateway to stop listening");
    socket.write(`GET /v1/routes HTTP/1.1\r\n${auth}\r\n`);
    release.resolve();
    await closed;

    const [first, second, ...more] = parseResponses(received);
    assert.equal(more.length, 0);
    assert.equal(first?.status, 200, "the request in flight when shutdown began is finished");
    assert.equal(JSON.parse(first?.body ?? "").statusCode, 200);
    assert.equal(second?.status, 503);
    assert.equal(second?.headers["content-type"]?.startsWith("application/json"), true);
    assert.equal(second?.headers.connection, "close");
    const body = JSON.parse(second?.body ?? "");
    assert.deepEqual(Object.keys(body), ["error"]);
    assert.equal(body.error.code, "HG_ERR_SHUTTING_DOWN");
    assert.equal(typeof body.error.message, "string");
    assert.equal(await exited, 0, "SIGTERM is still a clean exit");
  });
});
