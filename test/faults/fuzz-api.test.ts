import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { Sink } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";
import {
  type Answer,
  anyJson,
  assertCleanAnswer,
  bodyFor,
  brokenBytes,
  contentTypes,
  oddQuery,
  oddSegment,
  oddString,
} from "./fuzz-inputs.ts";

/*
 * Malformed input on every admin endpoint (routes with their functions, secret rotation and
 * redrive, events, dry-run, deliveries, sources): random JSON, valid bodies with one field
 * changed, wrong types, huge and odd strings, bad ids, bad content types, bytes that are not
 * UTF-8. No answer may be a 5xx; every refusal is a 4xx in the one error shape. Runs against the
 * real gateway on a real Redis, with its workers: the sink on loopback is the only target any
 * route can have.
 */

const MAX_BODY = 64 * 1024;
const RUNS = Number(process.env.HOOKGATE_FUZZ_RUNS ?? 150);

let redis: RedisServer;
let sink: Sink;
let gw: TestGateway;
let routeId = "";
let sourceId = "";
let deliveryId = "";

before(async () => {
  redis = await startRedisServer({ appendonly: false });
  sink = await new Sink().listen();
  gw = await startTestGateway(redis.url, { HOOKGATE_MAX_BODY_BYTES: String(MAX_BODY) });
  const route = await gw.call("POST", "/v1/routes", { name: "fuzz", target: { url: sink.url() } });
  assert.equal(route.status, 201);
  routeId = route.json.id;
  const source = await gw.call("POST", "/v1/sources", { name: "fuzz", kind: "generic" });
  assert.equal(source.status, 201);
  sourceId = source.json.id;
  await gw.call("POST", "/v1/events", { type: "messageNew", data: {} });
  deliveryId = await waitUntil(async () => {
    const list = await gw.call("GET", "/v1/deliveries");
    return list.json.deliveries?.[0]?.id as string | undefined;
  });
});

after(async () => {
  await gw?.close();
  await sink?.close();
  await redis?.stop();
});

async function send(
  method: string,
  url: string,
  payload?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await gw.app.inject({
    method: method as "GET",
    url,
    headers: { authorization: `Bearer ${gw.token}`, ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
  return { statusCode: res.statusCode, headers: res.headers, body: res.body };
}

const json = (value: unknown) => JSON.stringify(value) ?? "null";
const what = (method: string, url: string, body?: string | Buffer) =>
  `${method} ${url.slice(0, 200)} ${body === undefined ? "" : String(body).slice(0, 300)}`;

// The valid bodies each endpoint starts from; the fuzz changes them one place at a time.
const validRoutes = () => [
  { name: "r", target: { url: sink.url() } },
  {
    name: "full",
    enabled: false,
    events: ["message*", "trackOpen"],
    sources: ["generic", "src_abc"],
    filter: "export default (e) => e.type === 'messageNew'",
    map: "export default (e) => ({ id: e.id })",
    limits: { timeoutMs: 100, memoryLimitMb: 16 },
    template: { kind: "json", body: '{"id": "{{id}}"}' },
    target: { url: sink.url(), method: "PUT", headers: { "x-a": "b" }, timeoutMs: 2000 },
    retry: { scheduleMs: [10, 20], on4xx: true },
    stop: true,
  },
];
const validPatches = () => [
  { name: "renamed" },
  { enabled: true, events: ["*"], sources: null, target: { timeoutMs: 3000 } },
  { template: { kind: "slack" }, retry: { scheduleMs: [5] } },
];
const validEvents = [
  { type: "messageNew", data: { subject: "hi" } },
  [{ id: "e-1", type: "t", source: "crm", account: "a", occurredAt: "2026-01-01T00:00:00Z", data: null }],
  { events: [{ type: "t", data: [1, 2] }] },
];
const validDryRuns = () => [
  { event: { type: "messageNew", data: {} } },
  { sample: "emailengine/messageNew.json" },
  { event: { type: "x", data: {} }, routeId },
  { event: { type: "x", data: {} }, route: { name: "draft", target: { url: sink.url() } } },
];
const validSources = [
  { name: "s", kind: "generic" },
  { name: "s", kind: "stalwart", secret: null, auth: { type: "basic", username: "u", password: "p" } },
  { name: "s", kind: "mailpilot", auth: { type: "header", name: "x-token", value: "0123456789" } },
];

describe("admin API fuzzing", () => {
  it("answers any body on the JSON endpoints with a 2xx or a clean 4xx", async () => {
    const endpoints = (): [string, string, unknown[]][] => [
      ["POST", "/v1/routes", validRoutes()],
      ["PATCH", `/v1/routes/${routeId}`, validPatches()],
      ["PUT", "/v1/routes/order", [{ ids: [routeId] }, { ids: [] }]],
      ["POST", "/v1/events", validEvents],
      ["POST", "/v1/dry-run", validDryRuns()],
      ["POST", "/v1/sources", validSources],
      ["PATCH", `/v1/sources/${sourceId}`, [{ name: "n" }, { auth: null }]],
      ["POST", `/v1/routes/${routeId}/secret/rotate`, [{}, { graceS: 60 }]],
      [
        "POST",
        `/v1/routes/${routeId}/redrive`,
        [{ since: "2026-01-01T00:00:00Z", until: "2026-12-01T00:00:00Z" }],
      ],
    ];
    for (const [method, url, valid] of endpoints()) {
      await fc.assert(
        fc.asyncProperty(bodyFor(valid), async (body) => {
          const payload = json(body);
          const res = await send(method, url, payload, { "content-type": "application/json" });
          assertCleanAnswer(res, what(method, url, payload));
        }),
        { numRuns: RUNS },
      );
    }
  });

  it("refuses bodies that are not JSON, not UTF-8, or of a wrong top-level type", async () => {
    const urls = ["/v1/routes", "/v1/events", "/v1/dry-run", "/v1/sources"];
    const notAnObject = fc.oneof(
      brokenBytes,
      fc.oneof(oddString, fc.integer(), fc.boolean(), fc.constant(null)).map((v) => Buffer.from(json(v))),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...urls), notAnObject, async (url, payload) => {
        const res = await send("POST", url, payload, { "content-type": "application/json" });
        assertCleanAnswer(res, what("POST", url, payload), true);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it("refuses content types other than JSON with a clean 4xx", async () => {
    const urls = () => ["/v1/routes", `/v1/routes/${routeId}`, "/v1/events", "/v1/dry-run", "/v1/sources"];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...urls()),
        contentTypes.filter((t) => !/^application\/json/i.test(t.trim())),
        fc.oneof(
          brokenBytes,
          anyJson.map((v) => Buffer.from(json(v))),
        ),
        async (url, type, payload) => {
          const method = url.includes("rte_") ? "PATCH" : "POST";
          const res = await send(method, url, payload, { "content-type": type });
          assertCleanAnswer(res, `${what(method, url, payload)} as ${type}`, true);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it("answers odd ids and queries on every resource with a 2xx or a clean 4xx", async () => {
    const calls: [string, (id: string) => string][] = [
      ["GET", (id) => `/v1/routes/${id}`],
      ["PATCH", (id) => `/v1/routes/${id}`],
      ["DELETE", (id) => `/v1/routes/${id}`],
      ["PUT", (id) => `/v1/routes/${id}/filter`],
      ["DELETE", (id) => `/v1/routes/${id}/map`],
      ["PUT", (id) => `/v1/routes/${routeId}/${id}`],
      ["POST", (id) => `/v1/routes/${id}/test`],
      ["POST", (id) => `/v1/routes/${id}/secret/rotate`],
      ["POST", (id) => `/v1/routes/${id}/redrive`],
      ["GET", (id) => `/v1/deliveries/${id}`],
      ["POST", (id) => `/v1/deliveries/${id}/retry`],
      ["GET", (id) => `/v1/sources/${id}`],
      ["PATCH", (id) => `/v1/sources/${id}`],
      ["DELETE", (id) => `/v1/sources/${id}`],
      ["GET", (id) => `/v1/${id}`],
      ["POST", (id) => `/v1/ingest/${id}`],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...calls),
        fc.oneof(oddSegment, fc.constantFrom(routeId, sourceId, deliveryId)),
        fc.option(anyJson, { nil: undefined }),
        async ([method, url], id, body) => {
          const path = url(id);
          const payload = body === undefined ? undefined : json(body);
          const headers: Record<string, string> = payload ? { "content-type": "application/json" } : {};
          const res = await send(method, path, payload, headers);
          assertCleanAnswer(res, what(method, path, payload));
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it("answers odd query strings on the list endpoints with a 2xx or a clean 4xx", async () => {
    const lists = [
      "/v1/deliveries",
      "/v1/sources/samples",
      "/v1/routes",
      "/v1/sources",
      "/healthz",
      "/readyz",
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...lists), oddQuery, async (url, query) => {
        const res = await send("GET", `${url}${query}`);
        assertCleanAnswer(res, what("GET", `${url}${query}`));
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it("answers raw function uploads of any text with a 2xx or a clean 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("filter", "map"),
        fc.oneof(
          oddString,
          fc.constantFrom("export default (e) => true", "return true", "}{", "export default 1"),
        ),
        fc.constantFrom("application/javascript", "text/javascript", "text/plain", "application/json"),
        async (kind, source, type) => {
          const url = `/v1/routes/${routeId}/${kind}`;
          const res = await send("PUT", url, source, { "content-type": type });
          assertCleanAnswer(res, what("PUT", url, source));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("refuses every /v1 call without the right token with a clean 401", async () => {
    const calls = (): [string, string][] => [
      ["GET", "/v1/routes"],
      ["POST", "/v1/routes"],
      ["PATCH", `/v1/routes/${routeId}`],
      ["DELETE", `/v1/routes/${routeId}`],
      ["PUT", "/v1/routes/order"],
      ["POST", "/v1/events"],
      ["POST", "/v1/dry-run"],
      ["GET", "/v1/deliveries"],
      ["POST", `/v1/deliveries/${deliveryId}/retry`],
      ["GET", "/v1/sources"],
      ["DELETE", `/v1/sources/${sourceId}`],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...calls()),
        fc.oneof(
          fc.constant(undefined),
          oddString.filter((s) => /^[\x20-\x7e]*$/.test(s)),
          fc.constantFrom(
            "Bearer",
            "Bearer ",
            "Basic Og==",
            `Basic ${Buffer.from(`x:${"y"}`).toString("base64")}`,
          ),
        ),
        async ([method, url], authorization) => {
          const res = await gw.app.inject({
            method: method as "GET",
            url,
            headers: authorization === undefined ? {} : { authorization },
          });
          const answer = { statusCode: res.statusCode, headers: res.headers, body: res.body };
          assertCleanAnswer(answer, `${method} ${url} with ${authorization}`, true);
          assert.equal(res.statusCode, 401);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("keeps working after the fuzzing: a new route delivers", async () => {
    const { json: list } = await gw.call("GET", "/v1/routes");
    for (const r of list.routes) await gw.call("DELETE", `/v1/routes/${r.id}`);
    const route = await gw.call("POST", "/v1/routes", { name: "after", target: { url: sink.url("/after") } });
    assert.equal(route.status, 201);
    const accepted = await gw.call("POST", "/v1/events", { id: "after-fuzz", type: "messageNew", data: {} });
    assert.equal(accepted.status, 202);
    await waitUntil(
      () => sink.requests.some((r) => r.url === "/after" && r.body.includes("after-fuzz")),
      20_000,
    );
  });
});
