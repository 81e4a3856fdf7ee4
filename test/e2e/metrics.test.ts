import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { beforeEach, describe, it } from "node:test";
import { useGateway } from "../helpers/fixture.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { parseProm, promValue } from "../helpers/prometheus.ts";
import { waitUntil } from "../helpers/wait.ts";

/** GET /metrics of a real gateway: what the pipeline counts as events go through it. */

// A breaker that opens after two failures and probes soon, so one test can see it open and close.
const fx = useGateway({ HOOKGATE_BREAKER_FAILURES: "2", HOOKGATE_BREAKER_COOLDOWN_MS: "200" });
beforeEach(() => fx.reset());

async function scrape(token = fx.gw.token) {
  const res = await fx.gw.app.inject({ url: "/metrics", headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
  return parseProm(res.body);
}

describe("GET /metrics", () => {
  it("needs the admin token", async () => {
    const none = await fx.gw.app.inject({ url: "/metrics" });
    assert.equal(none.statusCode, 401);
    assert.equal(JSON.parse(none.body).error.code, "HG_ERR_UNAUTHORIZED");
    const wrong = await fx.gw.app.inject({
      url: "/metrics",
      headers: { authorization: "Bearer nope-nope-nope-nope" },
    });
    assert.equal(wrong.statusCode, 401);
  });

  it("counts events, walks, function outcomes and queued deliveries", async () => {
    const route = await fx.gw.call("POST", "/v1/routes", {
      name: "metrics",
      events: ["messageNew"],
      filter: "export default (e) => e.data.n > 0",
      map: "export default (e) => ({ n: e.data.n })",
      target: { url: fx.sink.url() },
    });
    assert.equal(route.status, 201);
    const failing = await fx.gw.call("POST", "/v1/routes", {
      name: "throws",
      events: ["messageNew"],
      filter: "export default (e) => { if (e.data.n < 0) throw new Error('no') ; return false }",
      target: { url: fx.sink.url() },
    });
    const id = route.json.id as string;
    const before = await scrape();
    const walksBefore = promValue(before, "hookgate_walks_total") ?? 0;
    const sent = await fx.gw.call("POST", "/v1/events", [
      { id: "m-1", type: "messageNew", data: { n: 1 } },
      { id: "m-2", type: "messageNew", data: { n: 0 } },
      { id: "m-3", type: "messageNew", data: { n: -1 } },
    ]);
    assert.equal(sent.status, 202);
    await fx.sink.waitFor(1);
    const s = await waitUntil(async () => {
      const now = await scrape();
      // The record (and its count) is written once the walk's attempt is answered.
      const recorded = promValue(now, "hookgate_deliveries_queued_total", { route_id: id }) ?? 0;
      return (promValue(now, "hookgate_walks_total") ?? 0) - walksBefore >= 3 && recorded >= 1 && now;
    });
    // Counters without a route label may carry counts of earlier tests: compare what this one added.
    const added = (name: string, labels: Record<string, string>) =>
      (promValue(s, name, labels) ?? 0) - (promValue(before, name, labels) ?? 0);
    assert.equal(added("hookgate_events_received_total", { source: "api", type: "messageNew" }), 3);
    assert.equal(promValue(s, "hookgate_route_walks_total", { route_id: id, outcome: "fired" }), 1);
    assert.equal(promValue(s, "hookgate_route_walks_total", { route_id: id, outcome: "filtered_out" }), 2);
    assert.equal(
      promValue(s, "hookgate_route_walks_total", { route_id: failing.json.id, outcome: "error" }),
      1,
    );
    assert.equal(added("hookgate_function_calls_total", { step: "filter", outcome: "passed" }), 1);
    assert.equal(added("hookgate_function_calls_total", { step: "filter", outcome: "rejected" }), 4);
    assert.equal(added("hookgate_function_calls_total", { step: "filter", outcome: "throw" }), 1);
    assert.equal(added("hookgate_function_calls_total", { step: "map", outcome: "ok" }), 1);
    assert.equal(added("hookgate_function_duration_seconds_count", { step: "filter" }), 6);
    assert.equal(promValue(s, "hookgate_deliveries_queued_total", { route_id: id }), 1);
    assert.equal(
      added("hookgate_http_requests_total", { method: "POST", route: "/v1/events", status_code: "202" }),
      1,
    );

    const again = await fx.gw.call("POST", "/v1/events", { id: "m-1", type: "messageNew", data: { n: 1 } });
    assert.equal(again.json.events[0].duplicate, true);
    const dup = { source: "api" };
    const dups = promValue(await scrape(), "hookgate_events_duplicate_total", dup) ?? 0;
    assert.equal(dups - (promValue(s, "hookgate_events_duplicate_total", dup) ?? 0), 1);
  });

  it("counts webhooks by source kind, and the ones refused", async () => {
    const source = await fx.gw.call("POST", "/v1/sources", { name: "ee", kind: "emailengine" });
    const body = await readFile("samples/sources/emailengine/messageNew.json");
    const sign = (secret: string) => createHmac("sha256", secret).update(body).digest("base64url");
    const post = (signature: string) =>
      fx.gw.app.inject({
        method: "POST",
        url: `/v1/ingest/${source.json.id}`,
        headers: { "content-type": "application/json", "x-ee-wh-signature": signature },
        payload: body,
      });
    assert.equal((await post(sign(source.json.secret))).statusCode, 200);
    assert.equal((await post(sign("not-the-secret"))).statusCode, 401);
    const s = await scrape();
    assert.equal(
      promValue(s, "hookgate_events_received_total", { source: "emailengine", type: "messageNew" }),
      1,
    );
    assert.equal(
      promValue(s, "hookgate_ingest_rejected_total", { source: "emailengine", code: "HG_ERR_UNAUTHORIZED" }),
      1,
    );
  });

  it("reads queue depths, the events stream and the isolates from their sources", async () => {
    fx.sink.respond = () => ({ status: 503, body: "down" });
    await fx.gw.call("POST", "/v1/routes", {
      name: "retrying",
      map: "export default (e) => e.data",
      retry: { scheduleMs: [600_000] },
      target: { url: fx.sink.url() },
    });
    await fx.gw.call("POST", "/v1/events", { id: "q-1", type: "messageNew", data: {} });
    await fx.sink.waitFor(1);
    const s = await waitUntil(async () => {
      const now = await scrape();
      return promValue(now, "hookgate_queue_jobs", { state: "delayed" }) === 1 && now;
    });
    for (const state of ["waiting", "active", "failed"]) {
      assert.equal(typeof promValue(s, "hookgate_queue_jobs", { state }), "number", state);
    }
    assert.equal(promValue(s, "hookgate_events_stream_length"), 0, "walked events leave the stream");
    assert.equal(promValue(s, "hookgate_events_pending"), 0);
    assert.ok((promValue(s, "hookgate_sandbox_isolates") ?? 0) >= 1);
    assert.ok((promValue(s, "hookgate_sandbox_heap_used_bytes") ?? 0) > 0);
    assert.ok(
      (promValue(s, "process_resident_memory_bytes") ?? 0) > 0,
      "Node's process metrics are there too",
    );
  });

  it("counts attempts by outcome and answer, and shows the target's breaker open, then closed", async () => {
    fx.sink.respond = () => ({ status: 503, body: "down" });
    const route = await fx.gw.call("POST", "/v1/routes", {
      name: "flaky",
      retry: { scheduleMs: [50, 50, 50, 50, 50, 50, 50, 50] },
      target: { url: fx.sink.url("/flaky") },
    });
    const id = route.json.id as string;
    await fx.gw.call("POST", "/v1/events", { id: "flaky-1", type: "messageNew", data: {} });
    const breakerOf = (s: ReturnType<typeof parseProm>) =>
      s.filter((x) => x.name === "hookgate_circuit_breaker_state");
    const opened = await waitUntil(async () => {
      const now = await scrape();
      return breakerOf(now).some((x) => x.value === 2) && now;
    });
    assert.ok(
      (promValue(opened, "hookgate_delivery_attempts_total", { route_id: id, outcome: "retry" }) ?? 0) >= 2,
    );
    fx.sink.respond = () => ({ status: 200, body: "ok" });
    const s = await waitUntil(async () => {
      const now = await scrape();
      return (
        promValue(now, "hookgate_deliveries_finished_total", { route_id: id, status: "succeeded" }) === 1 &&
        now
      );
    });
    const target = breakerOf(opened).find((x) => x.value === 2)?.labels.target ?? "";
    assert.equal(
      promValue(s, "hookgate_circuit_breaker_state", { target }),
      0,
      "closed after a successful probe",
    );
    assert.equal(promValue(s, "hookgate_delivery_attempts_total", { route_id: id, outcome: "delivered" }), 1);
    const retries = promValue(s, "hookgate_delivery_attempts_total", { route_id: id, outcome: "retry" }) ?? 0;
    assert.ok((promValue(s, "hookgate_delivery_attempt_results_total", { result: "5xx" }) ?? 0) >= retries);
    assert.ok((promValue(s, "hookgate_delivery_attempt_results_total", { result: "2xx" }) ?? 0) >= 1);
    assert.ok(
      (promValue(s, "hookgate_delivery_attempt_duration_seconds_count", { outcome: "retry" }) ?? 0) >=
        retries,
    );
  });

  it("keeps the counters of two gateways in one process apart", async () => {
    const other = await startTestGateway(fx.redis.url, { HOOKGATE_ROLE: "api" });
    try {
      await fx.gw.call("POST", "/v1/events", { id: "apart-1", type: "apartType", data: {} });
      assert.equal(promValue(await scrape(), "hookgate_events_received_total", { type: "apartType" }), 1);
      const res = await other.app.inject({
        url: "/metrics",
        headers: { authorization: `Bearer ${other.token}` },
      });
      assert.equal(
        promValue(parseProm(res.body), "hookgate_events_received_total", { type: "apartType" }),
        undefined,
      );
    } finally {
      await other.close();
    }
  });
});
