import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

/** Snags a new user hit in the first hour, following the README (issue 17). */

const fx = useGateway();

describe("the first hour", () => {
  it("a 415 says which content types are accepted, in the one details shape", async () => {
    const res = await fx.gw.app.inject({
      method: "POST",
      url: "/v1/events",
      headers: { authorization: `Bearer ${fx.gw.token}`, "content-type": "application/xml" },
      payload: "<event/>",
    });
    assert.equal(res.statusCode, 415);
    const { error } = JSON.parse(res.body);
    assert.equal(error.code, "HG_ERR_UNSUPPORTED_MEDIA_TYPE");
    assert.match(error.message, /application\/xml is not accepted: send application\/json/);
    assert.match(error.message, /application\/javascript/);
    assert.ok(Array.isArray(error.details));
    assert.equal(error.details[0].path, "content-type");
    assert.ok(error.details[0].accepted.includes("application/json"));
  });

  it("the playground page carries its own icon, so the browser asks for no /favicon.ico", async () => {
    const page = await readFile("web/playground/index.html", "utf8");
    const icon = /<link rel="icon" href="([^"]+)"/.exec(page)?.[1];
    assert.ok(icon?.startsWith("data:image/svg+xml,"), `icon link: ${icon}`);
    // The page's content security policy lets images come from data: URIs.
    const served = await fx.gw.app.inject({
      method: "GET",
      url: "/playground/session",
      headers: { authorization: `Bearer ${fx.gw.token}` },
    });
    assert.match(String(served.headers["content-security-policy"]), /img-src [^;]*data:/);
  });

  it("every error's details is a list of {path, message, …}, the extra facts inside the entries", async () => {
    const created = await fx.gw.call("POST", "/v1/routes", { name: "shape", target: { url: fx.sink.url() } });
    assert.equal(created.status, 201);
    const id = created.json.id;
    const cases: Array<{
      call: ReturnType<typeof fx.gw.call>;
      status: number;
      code: string;
      path: string;
      extra: string[];
    }> = [
      {
        call: fx.gw.call("PUT", `/v1/routes/${id}/filter`, "export default (e) => {\n  return e.(;\n}", {
          "content-type": "application/javascript",
        }),
        status: 400,
        code: "HG_ERR_FUNCTION_SYNTAX",
        path: "filter",
        extra: ["line", "column"],
      },
      {
        call: fx.gw.call("PATCH", `/v1/routes/${id}`, {
          template: { kind: "json", body: '{"a": "{{#if x}}"}' },
        }),
        status: 400,
        code: "HG_ERR_TEMPLATE_SYNTAX",
        path: "template.body",
        extra: ["line", "column"],
      },
      {
        // 127.0.0.2 is loopback but outside the test gateway's HOOKGATE_TARGET_ALLOW (127.0.0.1/32); nothing is sent.
        call: fx.gw.call("PATCH", `/v1/routes/${id}`, { target: { url: "http://127.0.0.2:9/" } }),
        status: 400,
        code: "HG_ERR_TARGET_BLOCKED",
        path: "target.url",
        extra: ["hint"],
      },
      {
        call: fx.gw.call("PUT", "/v1/routes/order", { ids: ["rte_nope"] }),
        status: 409,
        code: "HG_ERR_CONFLICT",
        path: "ids",
        extra: ["expected"],
      },
      {
        call: fx.gw.call("POST", `/v1/routes/${id}/redrive`, {
          since: "2026-01-02T00:00:00Z",
          until: "2026-01-01T00:00:00Z",
        }),
        status: 400,
        code: "HG_ERR_VALIDATION",
        path: "until",
        extra: [],
      },
      {
        call: fx.gw.call("POST", "/v1/routes", { name: 5, target: { url: fx.sink.url() } }),
        status: 400,
        code: "HG_ERR_VALIDATION",
        path: "name",
        extra: [],
      },
    ];
    for (const c of cases) {
      const res = await c.call;
      assert.equal(res.status, c.status, `${c.code}: ${JSON.stringify(res.json)}`);
      const { error } = res.json;
      assert.equal(error.code, c.code);
      assert.ok(Array.isArray(error.details), `${c.code}: ${JSON.stringify(error.details)}`);
      const [entry] = error.details;
      assert.equal(entry.path, c.path);
      assert.equal(typeof entry.message, "string");
      assert.ok(entry.message.length > 0);
      for (const key of c.extra) assert.ok(key in entry, `${c.code}: ${key} in ${JSON.stringify(entry)}`);
    }
    // One phrasing for validation: "<path>: <what is wrong>", said in lower case as our own
    // messages are ("unknown field", "must be …"), zod's included.
    const typed = await fx.gw.call("POST", "/v1/routes", { name: 5, target: { url: fx.sink.url() } });
    assert.equal(typed.json.error.message, "name: expected string, received number");
    const until = await fx.gw.call("POST", `/v1/routes/${id}/redrive`, {
      since: "2026-01-02T00:00:00Z",
      until: "2026-01-01T00:00:00Z",
    });
    assert.equal(until.json.error.message, "until: is before since");
    const order = await fx.gw.call("PUT", "/v1/routes/order", { ids: ["rte_nope"] });
    assert.deepEqual(order.json.error.details[0].expected, [id]);
    await fx.gw.call("DELETE", `/v1/routes/${id}`);
  });

  it("PATCH {} and an identical filter upload keep the version; a real change bumps it", async () => {
    const filter = "export default (event) => event.type === 'messageNew';";
    const created = await fx.gw.call("POST", "/v1/routes", {
      name: "same",
      target: { url: fx.sink.url() },
      filter,
    });
    const id = created.json.id;
    assert.equal(created.json.version, 1);
    const empty = await fx.gw.call("PATCH", `/v1/routes/${id}`, {});
    assert.equal(empty.status, 200);
    assert.equal(empty.json.version, 1);
    assert.equal(empty.json.updatedAt, created.json.updatedAt);
    const sameName = await fx.gw.call("PATCH", `/v1/routes/${id}`, {
      name: "same",
      target: { timeoutMs: created.json.target.timeoutMs },
    });
    assert.equal(sameName.json.version, 1);
    const upload = await fx.gw.call("PUT", `/v1/routes/${id}/filter`, filter, {
      "content-type": "application/javascript",
    });
    assert.equal(upload.status, 200);
    assert.equal(upload.json.version, 1);
    assert.equal((await fx.gw.call("GET", `/v1/routes/${id}`)).json.version, 1);
    const changed = await fx.gw.call("PUT", `/v1/routes/${id}/filter`, `${filter}\n`, {
      "content-type": "application/javascript",
    });
    assert.equal(changed.json.version, 2);
    const renamed = await fx.gw.call("PATCH", `/v1/routes/${id}`, { name: "other" });
    assert.equal(renamed.json.version, 3);
    await fx.gw.call("DELETE", `/v1/routes/${id}`);
  });

  it("a delivery's error says what the attempt ran into, not just its code", async () => {
    // .invalid never resolves (RFC 6761): the lookup fails and nothing is sent anywhere.
    const created = await fx.gw.call("POST", "/v1/routes", {
      name: "nowhere",
      events: ["nowhere.test"],
      target: { url: "http://nowhere.invalid/hook" },
      retry: { scheduleMs: [60_000] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const sent = await fx.gw.call("POST", "/v1/events", { type: "nowhere.test", data: {} });
    assert.equal(sent.status, 202);
    const delivery = await waitUntil(
      async () =>
        (await fx.gw.call("GET", `/v1/deliveries?routeId=${created.json.id}`)).json.deliveries.find(
          (d: { status: string }) => d.status === "retrying" || d.status === "failed",
        ),
      15_000,
      "the delivery to nowhere.invalid after its first attempt",
    );
    const full = (await fx.gw.call("GET", `/v1/deliveries/${delivery.id}`)).json;
    const attempt = full.attempts[0];
    assert.equal(full.error.code, "E_DNS");
    assert.equal(attempt.errorCode, "E_DNS");
    assert.match(attempt.errorMessage, /nowhere\.invalid/);
    assert.ok(full.error.message.startsWith("E_DNS: "), full.error.message);
    assert.ok(full.error.message.endsWith(attempt.errorMessage), full.error.message);
    await fx.gw.call("DELETE", `/v1/routes/${created.json.id}`);
  });

  it("the dry-run times filter and map each on its own, not one measure split in two", async () => {
    // The filter takes at least 60 ms of wall time by its own clock, and its step says so; the
    // map runs in a crossing of its own (no timing bound is asserted for it: a busy host may be slow).
    const route = {
      name: "timed",
      filter: "export default () => { const t = Date.now(); while (Date.now() - t < 60) {} return true; }",
      map: "export default (e) => ({ id: e.id })",
      target: { url: fx.sink.url(), signing: { scheme: "none" } },
      limits: { timeoutMs: 5000 },
    };
    const res = await fx.gw.call("POST", "/v1/dry-run", { route, event: { type: "t", data: {} } });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const [result] = res.json.results;
    assert.equal(result.fired, true);
    assert.ok(result.filter.durationMs >= 60, `filter ${result.filter.durationMs} ms`);
    assert.deepEqual(result.map.output, { id: res.json.event.id });
    assert.equal(typeof result.map.durationMs, "number");
  });
});
