import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

const fx = useGateway();

beforeEach(() => fx.reset());

async function createRoute(fields: Record<string, unknown> = {}) {
  const res = await fx.gw.call("POST", "/v1/routes", {
    name: "r",
    target: { url: fx.sink.url() },
    retry: { scheduleMs: [50, 50] },
    ...fields,
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;
}

const event = (fields: Record<string, unknown> = {}) => ({
  type: "messageNew",
  account: "acme",
  data: { subject: "Invoice 42", from: { address: "ada@example.com" } },
  ...fields,
});

/** FIFO: a route's deliveries go out in ingest order, each after every earlier event's walk. */
const FIFO = { ordering: "fifo" };

/**
 * Waits for the request a sentinel event (sent after the events under test) made: on FIFO routes,
 * whatever the earlier events were going to send has been sent by then, so what did not arrive
 * never will.
 */
async function sentinelArrived(isSentinel: (body: Record<string, unknown>) => boolean, count = 1) {
  await waitUntil(
    () => fx.sink.requests.filter((r) => isSentinel(JSON.parse(r.body))).length >= count,
    15_000,
    "the sentinel's request",
  );
}

/** The sink's requests other than the sentinels'. */
const withoutSentinels = () => fx.sink.requests.filter((r) => !r.body.includes("sentinel"));

describe("routes API", () => {
  it("creates a route with defaults and shows its secret only once", async () => {
    const created = await createRoute({ name: "billing" });
    assert.match(created.id, /^rte_/);
    assert.equal(created.version, 1);
    assert.deepEqual(created.events, ["*"]);
    assert.equal(created.enabled, true);
    assert.equal(created.stop, false);
    assert.equal(created.target.method, "POST");
    assert.equal(created.target.timeoutMs, 10000);
    assert.equal(created.target.signing.scheme, "standard-webhooks");
    assert.match(created.target.signing.secret, /^whsec_/);
    const fetched = await fx.gw.call("GET", `/v1/routes/${created.id}`);
    assert.equal(fetched.status, 200);
    assert.equal(fetched.json.target.signing.secret, undefined);
    assert.equal(fetched.json.name, "billing");
  });

  it("answers 400 naming an unknown field, also a nested one", async () => {
    const top = await fx.gw.call("POST", "/v1/routes", {
      name: "x",
      target: { url: fx.sink.url() },
      colour: "red",
    });
    assert.equal(top.status, 400);
    assert.equal(top.json.error.code, "HG_ERR_VALIDATION");
    assert.ok(top.json.error.details.some((d: { path: string }) => d.path === "colour"));
    const nested = await fx.gw.call("POST", "/v1/routes", {
      name: "x",
      target: { url: fx.sink.url(), verb: "GET" },
    });
    assert.equal(nested.status, 400);
    assert.ok(nested.json.error.details.some((d: { path: string }) => d.path === "target.verb"));
  });

  it("answers 400 for an invalid or refused target URL", async () => {
    const bad = await fx.gw.call("POST", "/v1/routes", { name: "x", target: { url: "not a url" } });
    assert.equal(bad.status, 400);
    assert.ok(bad.json.error.details.some((d: { path: string }) => d.path === "target.url"));
    const ftp = await fx.gw.call("POST", "/v1/routes", { name: "x", target: { url: "ftp://127.0.0.1/x" } });
    assert.equal(ftp.status, 400);
    // Only 127.0.0.1/32 is allowed in these tests: other loopback forms are refused at save time.
    for (const url of [
      "http://127.0.0.2/x",
      "http://0x7f000002/x",
      "http://[::ffff:127.0.0.2]/x",
      "http://[::1]/x",
    ]) {
      const res = await fx.gw.call("POST", "/v1/routes", { name: "x", target: { url } });
      assert.equal(res.status, 400, url);
      assert.equal(res.json.error.code, "HG_ERR_TARGET_BLOCKED", url);
    }
  });

  it("needs the bearer token", async () => {
    const none = await fx.gw.app.inject({ method: "GET", url: "/v1/routes" });
    assert.equal(none.statusCode, 401);
    assert.equal(JSON.parse(none.body).error.code, "HG_ERR_UNAUTHORIZED");
    const wrong = await fx.gw.call("GET", "/v1/routes", undefined, { authorization: "Bearer nope" });
    assert.equal(wrong.status, 401);
  });

  it("answers 404 in the error shape for unknown routes and endpoints", async () => {
    const route = await fx.gw.call("GET", "/v1/routes/rte_missing");
    assert.equal(route.status, 404);
    assert.equal(route.json.error.code, "HG_ERR_NOT_FOUND");
    const endpoint = await fx.gw.call("GET", "/v1/nothing-here");
    assert.equal(endpoint.status, 404);
    assert.equal(endpoint.json.error.code, "HG_ERR_NOT_FOUND");
  });

  it("patches a route, bumping its version and keeping the secret", async () => {
    const created = await createRoute();
    const patched = await fx.gw.call("PATCH", `/v1/routes/${created.id}`, {
      name: "renamed",
      target: { timeoutMs: 2000 },
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.json.version, 2);
    assert.equal(patched.json.name, "renamed");
    assert.equal(patched.json.target.timeoutMs, 2000);
    assert.equal(patched.json.target.url, fx.sink.url());
    assert.equal(patched.json.target.signing.secret, undefined);
  });

  it("never shows a header value again after creation unless it is declared public", async () => {
    const created = await createRoute({
      target: {
        url: fx.sink.url(),
        headers: { Authorization: "Bearer s3cret", "X-Team": "ops", "X-Note": "hello" },
        publicHeaders: ["X-Team"],
      },
    });
    assert.equal(created.target.headers.Authorization, "Bearer s3cret");
    assert.equal(created.target.headers["X-Note"], "hello");
    const fetched = await fx.gw.call("GET", `/v1/routes/${created.id}`);
    assert.equal(fetched.json.target.headers.Authorization, "[redacted]");
    assert.equal(fetched.json.target.headers["X-Team"], "ops");
    assert.equal(fetched.json.target.headers["X-Note"], "[redacted]");
  });

  it("deletes a route", async () => {
    const created = await createRoute();
    assert.equal((await fx.gw.call("DELETE", `/v1/routes/${created.id}`)).status, 204);
    assert.equal((await fx.gw.call("GET", `/v1/routes/${created.id}`)).status, 404);
    assert.equal((await fx.gw.call("DELETE", `/v1/routes/${created.id}`)).status, 404);
  });

  it("sets the walk order and refuses an order that does not name every route", async () => {
    const a = await createRoute({ name: "a" });
    const b = await createRoute({ name: "b" });
    const listed = await fx.gw.call("GET", "/v1/routes");
    assert.deepEqual(
      listed.json.routes.map((r: { id: string }) => r.id),
      [a.id, b.id],
    );
    const reordered = await fx.gw.call("PUT", "/v1/routes/order", { ids: [b.id, a.id] });
    assert.equal(reordered.status, 200);
    assert.deepEqual(
      reordered.json.routes.map((r: { id: string }) => r.id),
      [b.id, a.id],
    );
    const partial = await fx.gw.call("PUT", "/v1/routes/order", { ids: [a.id] });
    assert.equal(partial.status, 409);
    const duplicate = await fx.gw.call("PUT", "/v1/routes/order", { ids: [a.id, a.id] });
    assert.equal(duplicate.status, 409);
  });

  it("uploads functions as raw JavaScript and reports syntax errors with line and column", async () => {
    const created = await createRoute();
    const ok = await fx.gw.call(
      "PUT",
      `/v1/routes/${created.id}/filter`,
      "export default (e) => e.type === 'x'",
      {
        "content-type": "application/javascript",
      },
    );
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.filter, "export default (e) => e.type === 'x'");
    assert.equal(ok.json.version, 2);
    const broken = await fx.gw.call(
      "PUT",
      `/v1/routes/${created.id}/map`,
      "export default (e) => {\n  return e.(;\n}",
      {
        "content-type": "application/javascript",
      },
    );
    assert.equal(broken.status, 400);
    assert.equal(broken.json.error.code, "HG_ERR_FUNCTION_SYNTAX");
    assert.equal(broken.json.error.details[0].path, "map");
    assert.equal(broken.json.error.details[0].line, 2);
    assert.equal(typeof broken.json.error.details[0].column, "number");
    const notUtf8 = await fx.gw.app.inject({
      method: "PUT",
      url: `/v1/routes/${created.id}/map`,
      headers: { authorization: `Bearer ${fx.gw.token}`, "content-type": "application/javascript" },
      payload: Buffer.concat([
        Buffer.from('export default (e) => e.type === "'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"'),
      ]),
    });
    assert.equal(notUtf8.statusCode, 400, "bytes that are not UTF-8 are refused, not stored as U+FFFD");
    assert.equal(JSON.parse(notUtf8.body).error.code, "HG_ERR_VALIDATION");
    const removed = await fx.gw.call("DELETE", `/v1/routes/${created.id}/filter`);
    assert.equal(removed.status, 200);
    assert.equal(removed.json.filter, null);
  });

  it("refuses a route whose filter does not compile", async () => {
    const res = await fx.gw.call("POST", "/v1/routes", {
      name: "x",
      target: { url: fx.sink.url() },
      filter: "return payload.data.subject.includes(",
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, "HG_ERR_FUNCTION_SYNTAX");
  });

  it("answers 413 for a body over the limit and 400 for malformed JSON", async () => {
    const big = await fx.gw.call("POST", "/v1/events", { type: "x", data: "a".repeat(1024 * 1024 + 10) });
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, "HG_ERR_BODY_TOO_LARGE");
    const malformed = await fx.gw.call("POST", "/v1/events", "{nope", { "content-type": "application/json" });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.error.code, "HG_ERR_BAD_JSON");
  });

  it("refuses a string with a lone surrogate, and the route it would have named keeps working", async () => {
    const created = await createRoute({ name: "kept" });
    const lone = await fx.gw.call("PATCH", `/v1/routes/${created.id}`, '{"name":"\\ud800"}', {
      "content-type": "application/json",
    });
    assert.equal(lone.status, 400);
    assert.equal(lone.json.error.code, "HG_ERR_BAD_JSON");
    const pair = await fx.gw.call("PATCH", `/v1/routes/${created.id}`, { name: "\ud83d\udce7 mail" });
    assert.equal(pair.status, 200, "a surrogate pair is a character like any other");
    assert.equal(pair.json.name, "📧 mail");
    const escapedBackslash = await fx.gw.call("PATCH", `/v1/routes/${created.id}`, { name: "\\ud800" });
    assert.equal(escapedBackslash.status, 200, "a backslash followed by ud800 is just text");
    assert.equal((await fx.gw.call("PATCH", `/v1/routes/${created.id}`, { name: "again" })).status, 200);
  });
});

describe("events to deliveries", () => {
  it("delivers an event signed with Standard Webhooks, verified by the standardwebhooks package", async () => {
    const route = await createRoute();
    const res = await fx.gw.call("POST", "/v1/events", event({ id: "evt-signed-1" }));
    assert.equal(res.status, 202);
    assert.deepEqual(res.json.events, [{ id: "evt-signed-1", duplicate: false }]);
    const [req] = await fx.sink.waitFor(1);
    assert.ok(req);
    const verified = new Webhook(route.target.signing.secret).verify(req.body, {
      "webhook-id": String(req.headers["webhook-id"]),
      "webhook-timestamp": String(req.headers["webhook-timestamp"]),
      "webhook-signature": String(req.headers["webhook-signature"]),
    }) as { id: string; type: string; data: { subject: string } };
    assert.equal(verified.id, "evt-signed-1");
    assert.equal(verified.type, "messageNew");
    assert.equal(verified.data.subject, "Invoice 42");
    assert.equal(req.headers["content-type"], "application/json");
    // A wrong secret must not verify: the check above is not vacuous.
    assert.throws(() =>
      new Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").verify(req.body, {
        "webhook-id": String(req.headers["webhook-id"]),
        "webhook-timestamp": String(req.headers["webhook-timestamp"]),
        "webhook-signature": String(req.headers["webhook-signature"]),
      }),
    );
  });

  it("takes one event, an array, or {events: [...]}", async () => {
    await createRoute();
    const one = await fx.gw.call("POST", "/v1/events", event());
    const many = await fx.gw.call("POST", "/v1/events", [event(), event()]);
    const wrapped = await fx.gw.call("POST", "/v1/events", { events: [event(), event(), event()] });
    assert.equal(one.json.events.length, 1);
    assert.equal(many.json.events.length, 2);
    assert.equal(wrapped.json.events.length, 3);
    for (const e of [...one.json.events, ...many.json.events, ...wrapped.json.events])
      assert.match(e.id, /^evt_/);
    await fx.sink.waitFor(6);
  });

  it("rejects an invalid event with the path of the problem and stores nothing", async () => {
    await createRoute(FIFO);
    const res = await fx.gw.call("POST", "/v1/events", [event(), { data: {} }]);
    assert.equal(res.status, 400);
    assert.ok(
      res.json.error.details.some((d: { path: string }) => d.path === "1.type"),
      JSON.stringify(res.json),
    );
    // Sent after the refused batch: the sentinel.
    const good = await fx.gw.call("POST", "/v1/events", event({ id: "after-bad" }));
    assert.equal(good.status, 202);
    await sentinelArrived((body) => body.id === "after-bad");
    assert.equal(fx.sink.requests.length, 1, "the batch with an invalid event was not partly accepted");
  });

  it("does not deliver an event id twice", async () => {
    await createRoute(FIFO);
    const first = await fx.gw.call("POST", "/v1/events", event({ id: "dup-1" }));
    const again = await fx.gw.call("POST", "/v1/events", [event({ id: "dup-1" }), event({ id: "dup-2" })]);
    assert.deepEqual(first.json.events, [{ id: "dup-1", duplicate: false }]);
    assert.deepEqual(again.json.events, [
      { id: "dup-1", duplicate: true },
      { id: "dup-2", duplicate: false },
    ]);
    await fx.gw.call("POST", "/v1/events", event({ id: "dup-sentinel" }));
    await sentinelArrived((body) => body.id === "dup-sentinel");
    assert.equal(withoutSentinels().length, 2);
  });

  it("walks routes in order, honours event globs, filters, maps and stop", async () => {
    const invoices = await createRoute({
      name: "invoices",
      events: ["message*"],
      filter: "export default (e) => e.data.subject.startsWith('Invoice')",
      map: "export default (e) => ({ invoice: e.data.subject, from: e.data.from.address })",
      target: { url: fx.sink.url("/invoices") },
      stop: true,
      ...FIFO,
    });
    await createRoute({ name: "everything", target: { url: fx.sink.url("/all") }, ...FIFO });
    await createRoute({
      name: "bounces only",
      events: ["bounce"],
      target: { url: fx.sink.url("/bounces") },
      ...FIFO,
    });

    await fx.gw.call("POST", "/v1/events", event({ id: "walk-1" })); // invoices fires and stops the walk
    await fx.gw.call("POST", "/v1/events", event({ id: "walk-2", data: { subject: "Hello", from: {} } })); // falls through
    await fx.gw.call("POST", "/v1/events", event({ id: "walk-3", type: "bounce" })); // all + bounces
    await fx.sink.waitFor(4);
    // One sentinel through each route's lane: an invoice (invoices, which stops) and a bounce (all, bounces).
    await fx.gw.call(
      "POST",
      "/v1/events",
      event({ id: "walk-sentinel-1", data: { subject: "Invoice sentinel", from: {} } }),
    );
    await fx.gw.call("POST", "/v1/events", event({ id: "walk-sentinel-2", type: "bounce" }));
    await sentinelArrived((b) => b.invoice === "Invoice sentinel" || b.id === "walk-sentinel-2", 3);
    const reqs = withoutSentinels();
    const seen = reqs.map((r) => `${r.url} ${JSON.parse(r.body).id ?? JSON.parse(r.body).invoice}`).sort();
    assert.deepEqual(seen, ["/all walk-2", "/all walk-3", "/bounces walk-3", "/invoices Invoice 42"]);
    const invoiceReq = reqs.find((r) => r.url === "/invoices");
    assert.deepEqual(JSON.parse(invoiceReq?.body ?? ""), { invoice: "Invoice 42", from: "ada@example.com" });

    // Moving "everything" first: it has no stop, so both fire for walk-4.
    const { json } = await fx.gw.call("GET", "/v1/routes");
    const ids = json.routes.map((r: { id: string }) => r.id);
    await fx.gw.call("PUT", "/v1/routes/order", { ids: [ids[1], invoices.id, ids[2]] });
    fx.sink.requests.length = 0;
    await fx.gw.call("POST", "/v1/events", event({ id: "walk-4" }));
    const after4 = await fx.sink.waitFor(2);
    assert.deepEqual(after4.map((r) => r.url).sort(), ["/all", "/invoices"]);
  });

  it("takes EmailEngine-style function bodies with payload in scope", async () => {
    await createRoute({
      filter: "if (payload.account !== 'acme') return false;\nreturn true;",
      map: "return { account: payload.account, subject: payload.data.subject };",
      ...FIFO,
    });
    await fx.gw.call("POST", "/v1/events", event({ account: "other" }));
    await fx.gw.call("POST", "/v1/events", event({ account: "acme" }));
    const [req] = await fx.sink.waitFor(1);
    await fx.gw.call("POST", "/v1/events", event({ data: { subject: "sentinel" } }));
    await sentinelArrived((body) => body.subject === "sentinel");
    assert.equal(withoutSentinels().length, 1);
    assert.deepEqual(JSON.parse(req?.body ?? ""), { account: "acme", subject: "Invoice 42" });
  });

  it("keeps delivering to other routes while a filter loops forever", async () => {
    const runaway = await createRoute({
      name: "runaway",
      filter: "export default () => { while (true) {} }",
      target: { url: fx.sink.url("/runaway") },
    });
    await createRoute({ name: "healthy", target: { url: fx.sink.url("/healthy") } });
    await fx.gw.call("POST", "/v1/events", [
      event({ id: "loop-1" }),
      event({ id: "loop-2" }),
      event({ id: "loop-3" }),
    ]);
    const reqs = await fx.sink.waitFor(3);
    assert.ok(reqs.every((r) => r.url === "/healthy"));
    const failed = await waitUntil(async () => {
      const { json } = await fx.gw.call("GET", `/v1/deliveries?routeId=${runaway.id}&status=failed`);
      return json.deliveries.length === 3 ? json.deliveries : undefined;
    });
    for (const d of failed) {
      assert.equal(d.error.code, "HG_ERR_SANDBOX_TIMEOUT");
      assert.equal(d.attemptCount, 0);
    }
  });

  it("applies a route's own function deadline, below the gateway's", async () => {
    const res = await fx.gw.call("POST", "/v1/dry-run", {
      event: event(),
      route: {
        name: "tight",
        target: { url: fx.sink.url() },
        limits: { timeoutMs: 20 },
        // Busy for ~60 ms: within the gateway's 250 ms, beyond the route's own 20 ms.
        filter:
          "export default () => { const end = Date.now() + 60; while (Date.now() < end) {} return true }",
      },
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.results[0].filter.error.code, "HG_ERR_SANDBOX_TIMEOUT");
    const relaxed = await fx.gw.call("POST", "/v1/dry-run", {
      event: event(),
      route: {
        name: "relaxed",
        target: { url: fx.sink.url() },
        filter:
          "export default () => { const end = Date.now() + 60; while (Date.now() < end) {} return true }",
      },
    });
    assert.equal(relaxed.json.results[0].filter.result, true);
  });

  it("records a map that throws as a failed delivery and sends nothing for it", async () => {
    const route = await createRoute({
      map: "export default (e) => { throw new Error('no subject for ' + e.id) }",
    });
    await fx.gw.call("POST", "/v1/events", event({ id: "throws-1" }));
    const [d] = await waitUntil(async () => {
      const { json } = await fx.gw.call("GET", `/v1/deliveries?routeId=${route.id}`);
      return json.deliveries.length ? json.deliveries : undefined;
    });
    assert.equal(d.status, "failed");
    assert.equal(d.error.code, "HG_ERR_SANDBOX_THROW");
    assert.match(d.error.message, /no subject for throws-1/);
    assert.equal(fx.sink.requests.length, 0);
  });

  it("retries on the route's schedule with the same webhook-id, then records success", async () => {
    const route = await createRoute({ retry: { scheduleMs: [100, 100, 100] } });
    let n = 0;
    fx.sink.respond = () => (++n <= 2 ? { status: 503, body: "busy" } : { status: 200, body: "fine" });
    await fx.gw.call("POST", "/v1/events", event({ id: "retry-1" }));
    const reqs = await fx.sink.waitFor(3);
    assert.equal(new Set(reqs.map((r) => r.headers["webhook-id"])).size, 1);
    const d = await waitUntil(async () => {
      const { json } = await fx.gw.call("GET", `/v1/deliveries?routeId=${route.id}&status=succeeded`);
      return json.deliveries[0];
    });
    const full = await fx.gw.call("GET", `/v1/deliveries/${d.id}`);
    assert.equal(full.json.status, "succeeded");
    assert.equal(full.json.attempts.length, 3);
    assert.deepEqual(
      full.json.attempts.map((a: { statusCode: number }) => a.statusCode),
      [503, 503, 200],
    );
    assert.equal(full.json.attempts[0].responseExcerpt, "busy");
    assert.equal(full.json.id, reqs[0]?.headers["webhook-id"]);
  });

  it("gives up after the schedule, does not retry a 400, and can be retried by hand", async () => {
    const route = await createRoute({ retry: { scheduleMs: [50] } });
    fx.sink.respond = () => ({ status: 500 });
    await fx.gw.call("POST", "/v1/events", event({ id: "exhaust-1" }));
    const failed = await waitUntil(async () => {
      const { json } = await fx.gw.call("GET", `/v1/deliveries?routeId=${route.id}&status=failed`);
      return json.deliveries[0];
    });
    assert.equal(failed.attemptCount, 2);
    assert.equal(fx.sink.requests.length, 2);

    fx.sink.requests.length = 0;
    fx.sink.respond = () => ({ status: 400, body: "bad" });
    await fx.gw.call("POST", "/v1/events", event({ id: "client-error-1" }));
    await waitUntil(async () => {
      const { json } = await fx.gw.call("GET", `/v1/deliveries?routeId=${route.id}&status=failed`);
      return json.deliveries.length === 2 || undefined;
    });
    assert.equal(fx.sink.requests.length, 1, "a 400 is not retried");

    fx.sink.respond = () => ({ status: 200 });
    const retry = await fx.gw.call("POST", `/v1/deliveries/${failed.id}/retry`);
    assert.equal(retry.status, 202);
    await waitUntil(
      async () => (await fx.gw.call("GET", `/v1/deliveries/${failed.id}`)).json.status === "succeeded",
    );
    const again = await fx.gw.call("POST", "/v1/deliveries/dlv_missing/retry");
    assert.equal(again.status, 404);
  });

  it("records a redirect as a failed attempt and never follows it", async () => {
    const route = await createRoute({ retry: { scheduleMs: [] } });
    fx.sink.respond = (req) =>
      req.url === "/hook"
        ? { status: 302, headers: { location: fx.sink.url("/elsewhere") } }
        : { status: 200 };
    await fx.gw.call("POST", "/v1/events", event({ id: "redirect-1" }));
    const d = await waitUntil(async () => {
      const { json } = await fx.gw.call("GET", `/v1/deliveries?routeId=${route.id}&status=failed`);
      return json.deliveries[0];
    });
    const full = await fx.gw.call("GET", `/v1/deliveries/${d.id}`);
    assert.equal(full.json.attempts[0].statusCode, 302);
    assert.deepEqual(
      fx.sink.requests.map((r) => r.url),
      ["/hook"],
    );
  });

  it("gives up on a target slower than its timeout and records E_TIMEOUT", async () => {
    const route = await createRoute({
      target: { url: fx.sink.url(), timeoutMs: 200 },
      retry: { scheduleMs: [] },
    });
    fx.sink.respond = () => ({ status: 200, delayMs: 1500 });
    await fx.gw.call("POST", "/v1/events", event({ id: "slow-1" }));
    const d = await waitUntil(async () => {
      const { json } = await fx.gw.call("GET", `/v1/deliveries?routeId=${route.id}&status=failed`);
      return json.deliveries[0];
    });
    const full = await fx.gw.call("GET", `/v1/deliveries/${d.id}`);
    assert.equal(full.json.attempts[0].errorCode, "E_TIMEOUT");
    assert.equal(full.json.attempts[0].statusCode, null);
  });

  it("refuses a PATCH to a name that resolves to a refused loopback address", async () => {
    const route = await createRoute();
    const res = await fx.gw.call("PATCH", `/v1/routes/${route.id}`, {
      target: { url: fx.sink.url("/x", "localhost") },
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, "HG_ERR_TARGET_BLOCKED");
    assert.equal((await fx.gw.call("GET", `/v1/routes/${route.id}`)).json.target.url, fx.sink.url());
  });
});

describe("dry-run", () => {
  it("shows each route's walk and the exact signed request, and sends nothing", async () => {
    const route = await createRoute({
      name: "vip",
      filter:
        "export default (e) => { console.log('from', e.data.from.address); return e.data.from.address.endsWith('@example.com') }",
      map: "export default (e) => ({ text: 'VIP mail: ' + e.data.subject })",
    });
    await createRoute({ name: "bounces", events: ["bounce"] });
    const res = await fx.gw.call("POST", "/v1/dry-run", { event: event({ id: "dry-1" }) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const [vip, bounces] = res.json.results;
    assert.equal(vip.routeId, route.id);
    assert.equal(vip.matched, true);
    assert.equal(vip.filter.result, true);
    assert.deepEqual(vip.filter.logs, ["[log] from ada@example.com"]);
    assert.deepEqual(vip.map.output, { text: "VIP mail: Invoice 42" });
    assert.equal(vip.request.method, "POST");
    assert.equal(vip.request.url, fx.sink.url());
    assert.equal(vip.request.body, JSON.stringify({ text: "VIP mail: Invoice 42" }));
    const verified = new Webhook(route.target.signing.secret).verify(vip.request.body, vip.request.headers);
    assert.deepEqual(verified, { text: "VIP mail: Invoice 42" });
    assert.equal(bounces.matched, false);
    assert.equal(bounces.skipped, "event type not matched");
    assert.equal(bounces.request, null);
    // A real event through the same route after the dry-run answered: a request the dry-run had
    // set off, directly or through the queue, would be ahead of this one.
    await fx.gw.call(
      "POST",
      "/v1/events",
      event({ id: "dry-sentinel", data: { subject: "sentinel", from: { address: "ada@example.com" } } }),
    );
    await sentinelArrived((body) => body.text === "VIP mail: sentinel");
    assert.equal(withoutSentinels().length, 0);
    assert.equal(
      (await fx.gw.call("GET", "/v1/deliveries")).json.deliveries.filter(
        (d: { eventId: string }) => d.eventId === "dry-1",
      ).length,
      0,
    );
  });

  it("dry-runs an unsaved route and reports function errors", async () => {
    const res = await fx.gw.call("POST", "/v1/dry-run", {
      event: event(),
      route: {
        name: "draft",
        target: { url: fx.sink.url() },
        map: "export default (e) => e.data.missing.field",
      },
    });
    assert.equal(res.status, 200);
    const [r] = res.json.results;
    // No filter: the route takes the event, and its map failing means it sends nothing.
    assert.equal(r.matched, true);
    assert.equal(r.fired, false);
    assert.equal(r.map.error.code, "HG_ERR_SANDBOX_THROW");
    assert.equal(r.error.code, "HG_ERR_SANDBOX_THROW");
    assert.equal(r.request, null);
  });

  it("dry-runs a sample body of an email system as the event its source would make", async () => {
    await createRoute({ name: "new mail", events: ["messageNew"] });
    const res = await fx.gw.call("POST", "/v1/dry-run", { sample: "emailengine/messageNew.json" });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.event.type, "messageNew");
    assert.equal(res.json.event.sourceKind, "emailengine");
    assert.equal(res.json.results[0].matched, true);
    const missing = await fx.gw.call("POST", "/v1/dry-run", { sample: "nope/none.json" });
    assert.equal(missing.status, 404);
    const both = await fx.gw.call("POST", "/v1/dry-run", {
      sample: "emailengine/messageNew.json",
      event: event(),
    });
    assert.equal(both.status, 400);
  });

  it("dry-runs one saved route by id, even when disabled, and shows the filter saying no", async () => {
    const route = await createRoute({
      enabled: false,
      filter: "export default (e) => e.account === 'nobody'",
    });
    const res = await fx.gw.call("POST", "/v1/dry-run", { event: event(), routeId: route.id });
    assert.equal(res.json.results.length, 1);
    assert.equal(res.json.results[0].matched, false);
    assert.equal(res.json.results[0].filter.result, false);
    const missing = await fx.gw.call("POST", "/v1/dry-run", { event: event(), routeId: "rte_nope" });
    assert.equal(missing.status, 404);
  });
});

describe("route test, health and docs", () => {
  it("sends a sample event to the route's target now", async () => {
    const route = await createRoute();
    fx.sink.respond = () => ({ status: 204 });
    const res = await fx.gw.call("POST", `/v1/routes/${route.id}/test`);
    assert.equal(res.status, 200);
    assert.equal(res.json.statusCode, 204);
    assert.equal(typeof res.json.durationMs, "number");
    assert.equal(fx.sink.requests.length, 1);
    assert.equal(JSON.parse(fx.sink.requests[0]?.body ?? "").type, "messageNew");
  });

  it("answers /healthz and /readyz without auth", async () => {
    const live = await fx.gw.app.inject({ method: "GET", url: "/healthz" });
    assert.equal(live.statusCode, 200);
    const ready = await fx.gw.app.inject({ method: "GET", url: "/readyz" });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(JSON.parse(ready.body).checks, {
      redis: true,
      redisMemory: true,
      walker: true,
      deliveryWorker: true,
    });
  });

  it("serves an OpenAPI 3.1 document of the API", async () => {
    const res = await fx.gw.app.inject({ method: "GET", url: "/openapi.json" });
    assert.equal(res.statusCode, 200);
    const doc = JSON.parse(res.body);
    assert.equal(doc.openapi, "3.1.0");
    for (const path of [
      "/v1/routes",
      "/v1/routes/{id}",
      "/v1/events",
      "/v1/dry-run",
      "/v1/deliveries/{id}/retry",
    ]) {
      assert.ok(doc.paths[path], `${path} is documented`);
    }
  });
});

describe("templates and chat receivers", () => {
  it("refuses a template that does not compile, with its position", async () => {
    const res = await fx.gw.call("POST", "/v1/routes", {
      name: "x",
      target: { url: fx.sink.url() },
      template: { kind: "json", body: '{"a": "{{#if x}}"}' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, "HG_ERR_TEMPLATE_SYNTAX");
    assert.equal(res.json.error.details[0].path, "template.body");
    assert.equal(res.json.error.details[0].line, 1);
    assert.equal(typeof res.json.error.details[0].column, "number");
  });

  it("dry-run shows the rendered Slack body and the truncation applied", async () => {
    await createRoute({ template: { kind: "slack" } });
    const res = await fx.gw.call("POST", "/v1/dry-run", {
      event: event({ data: { subject: "S".repeat(10_000) } }),
    });
    const [r] = res.json.results;
    assert.equal(r.matched, true);
    const body = JSON.parse(r.request.body);
    assert.ok(body.text.length > 0);
    assert.ok(r.truncations.some((t: { originalLength: number }) => t.originalLength >= 10_000));
  });

  it("delivers a Discord message with mentions switched off", async () => {
    await createRoute({ template: { kind: "discord" } });
    await fx.gw.call("POST", "/v1/events", event({ type: "bounce", data: { subject: "@everyone look" } }));
    const [req] = await fx.sink.waitFor(1);
    const body = JSON.parse(req?.body ?? "");
    assert.deepEqual(body.allowed_mentions, { parse: [] });
    assert.ok(Array.isArray(body.embeds) && body.embeds.length === 1);
  });

  it("stops a Slack route whose webhook answers 404 instead of retrying", async () => {
    const route = await createRoute({ template: { kind: "slack" }, retry: { scheduleMs: [50, 50, 50] } });
    fx.sink.respond = () => ({ status: 404, body: "no_service" });
    await fx.gw.call("POST", "/v1/events", event({ id: "slack-404" }));
    const stopped = await waitUntil(async () => {
      const { json } = await fx.gw.call("GET", `/v1/routes/${route.id}`);
      return json.enabled === false ? json : undefined;
    });
    assert.match(stopped.disabledReason, /404/);
    assert.equal(fx.sink.requests.length, 1, "not retried");
    const reenabled = await fx.gw.call("PATCH", `/v1/routes/${route.id}`, { enabled: true });
    assert.equal(reenabled.json.disabledReason, null);
  });

  it("waits as a Discord 429 says before retrying", async () => {
    await createRoute({ template: { kind: "discord" }, retry: { scheduleMs: [50, 50] } });
    let n = 0;
    fx.sink.respond = () =>
      ++n === 1
        ? {
            status: 429,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ message: "You are being rate limited.", retry_after: 1.2, global: false }),
          }
        : { status: 204 };
    await fx.gw.call("POST", "/v1/events", event({ id: "discord-429", type: "bounce" }));
    const reqs = await fx.sink.waitFor(2);
    const gap = (reqs[1]?.at ?? 0) - (reqs[0]?.at ?? 0);
    // The schedule alone would retry after ~50 ms; being told 1.2 s, it waits that long.
    assert.ok(gap >= 1150, `retried after ${gap} ms`);
  });
});
