import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { exportRoute } from "../../src/cli/export-routes.ts";
import { useGateway } from "../helpers/fixture.ts";
import { parseProm } from "../helpers/prometheus.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * Issue 16's findings outside the sandbox, each against the real gateway: inputs that froze the
 * main thread or answered 500, secrets shown back, spoofable names, 3xx retried.
 */

const fx = useGateway();

beforeEach(() => fx.reset());

async function createRoute(fields: Record<string, unknown> = {}) {
  const res = await fx.gw.call("POST", "/v1/routes", {
    name: "r",
    target: { url: fx.sink.url(), signing: { scheme: "none" } },
    retry: { scheduleMs: [50, 50] },
    ...fields,
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;
}

async function createSource(fields: Record<string, unknown> = {}) {
  const res = await fx.gw.call("POST", "/v1/sources", { name: "s", kind: "generic", ...fields });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json;
}

/** POST to the ingest URL the way a sender does: no admin token. */
async function ingest(sourceId: string, body: string) {
  const res = await fx.gw.app.inject({
    method: "POST",
    url: `/v1/ingest/${sourceId}`,
    headers: { "content-type": "application/json" },
    payload: body,
  });
  return { status: res.statusCode, json: res.json() };
}

/** A sentinel event delivered after the attack shows the pipeline kept going. */
async function sentinelDelivered(): Promise<void> {
  await createRoute({ name: "sentinel", events: ["sentinel"] });
  const sent = await fx.gw.call("POST", "/v1/events", { type: "sentinel", data: { n: 1 } });
  assert.equal(sent.status, 202, JSON.stringify(sent.json));
  const got = await fx.sink.waitFor(1);
  assert.equal(JSON.parse(got[0]?.body ?? "{}").type, "sentinel");
}

describe("deep JSON bodies", () => {
  const arrays = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
  const inEvent = (levels: number) => `{"type":"deep","data":{"x":${arrays(levels)}}}`;

  function assertTooDeep(res: { status: number; json: { error?: { code: string; message: string } } }) {
    assert.equal(res.status, 400, JSON.stringify(res.json).slice(0, 300));
    assert.equal(res.json.error?.code, "HG_ERR_VALIDATION");
    assert.match(res.json.error?.message ?? "", /more than 64 levels/);
  }

  for (const levels of [100_000, 5_000]) {
    it(`refuses ${levels} levels with a 400 on POST /v1/events, /v1/dry-run and /v1/ingest`, async () => {
      assertTooDeep(
        await fx.gw.call("POST", "/v1/events", inEvent(levels), { "content-type": "application/json" }),
      );
      const dry = `{"route":{"name":"d","target":{"url":"${fx.sink.url()}"}},"event":${inEvent(levels)}}`;
      assertTooDeep(await fx.gw.call("POST", "/v1/dry-run", dry, { "content-type": "application/json" }));
      const source = await createSource();
      assertTooDeep(await ingest(source.id, inEvent(levels)));
      await sentinelDelivered();
    });
  }

  it("takes an event nested up to the limit", async () => {
    await createRoute({ events: ["deep"] });
    // The body's own object, then data, then 62 arrays: 64 levels.
    const sent = await fx.gw.call("POST", "/v1/events", inEvent(62), { "content-type": "application/json" });
    assert.equal(sent.status, 202, JSON.stringify(sent.json));
    const source = await createSource();
    assert.equal((await ingest(source.id, inEvent(62))).status, 200);
    await fx.sink.waitFor(2);
  });
});

describe("target header values after creation", () => {
  const SECRETS = {
    "X-Auth": "auth-literal-1",
    "X-Session": "session-literal-2",
    "X-Key": "key-literal-3",
    "X-Hub-Signature": "sha256=sig-literal-4",
  };
  const LITERAL = /-literal-\d|resolved-tenant/;
  process.env.HG_E2E_CONTAINMENT_TENANT = "resolved-tenant";
  const headers = { ...SECRETS, "X-Tenant": "${HG_E2E_CONTAINMENT_TENANT}", "X-Team": "ops" };

  it("shows no literal value in GET, list, dry-run or an export unless declared public", async () => {
    const created = await createRoute({ target: { url: fx.sink.url(), headers, publicHeaders: ["x-team"] } });
    assert.deepEqual(created.target.headers, headers);
    const got = await fx.gw.call("GET", `/v1/routes/${created.id}`);
    const list = await fx.gw.call("GET", "/v1/routes");
    const event = { type: "messageNew", data: {} };
    const dryById = await fx.gw.call("POST", "/v1/dry-run", { routeId: created.id, event });
    const dryUnsaved = await fx.gw.call("POST", "/v1/dry-run", {
      route: { name: "draft", target: { url: fx.sink.url(), headers } },
      event,
    });
    for (const answer of [got, list, dryById, dryUnsaved]) {
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      assert.doesNotMatch(JSON.stringify(answer.json), LITERAL);
    }
    for (const name of Object.keys(SECRETS)) {
      assert.equal(got.json.target.headers[name], "[redacted]", name);
      assert.equal(dryById.json.results[0].request.headers[name.toLowerCase()], "[redacted]", name);
    }
    assert.equal(got.json.target.headers["X-Tenant"], "${HG_E2E_CONTAINMENT_TENANT}");
    assert.equal(got.json.target.headers["X-Team"], "ops");
    assert.equal(dryById.json.results[0].request.headers["x-team"], "ops");
    // The CLI writes route files from the same answer and names what it could not show.
    const exported = exportRoute(got.json, "routes/r", {}, "functions");
    assert.doesNotMatch(JSON.stringify(exported.json), LITERAL);
    assert.deepEqual(
      exported.hidden.sort(),
      Object.keys(SECRETS)
        .map((n) => `target.headers.${n}`)
        .sort(),
    );
  });

  it("keeps the stored values when a PATCH sends the redacted ones back", async () => {
    const created = await createRoute({
      events: ["patched"],
      target: { url: fx.sink.url(), signing: { scheme: "none" }, headers: SECRETS },
    });
    const shown = (await fx.gw.call("GET", `/v1/routes/${created.id}`)).json.target.headers;
    const patched = await fx.gw.call("PATCH", `/v1/routes/${created.id}`, {
      name: "renamed",
      target: { headers: { ...shown, "X-Extra": "new" } },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.json));
    assert.equal((await fx.gw.call("POST", "/v1/events", { type: "patched", data: {} })).status, 202);
    const [delivered] = await fx.sink.waitFor(1);
    for (const [name, value] of Object.entries(SECRETS)) {
      assert.equal(delivered?.headers[name.toLowerCase()], value, name);
    }
    assert.equal(delivered?.headers["x-extra"], "new");
    const orphan = await fx.gw.call("PATCH", `/v1/routes/${created.id}`, {
      target: { headers: { "X-Other": "[redacted]" } },
    });
    assert.equal(orphan.status, 400);
    assert.equal(orphan.json.error.code, "HG_ERR_VALIDATION");
    assert.match(orphan.json.error.message, /target\.headers\.X-Other/);
  });
});

describe("names and labels that spoof", () => {
  it("refuses NUL and bidi overrides in route and source names, on create and on PATCH", async () => {
    const route = await createRoute();
    const source = await createSource();
    for (const name of ["billing\u0000", "in\u202Eliob.exe", "a\u2066b"]) {
      const answers = [
        await fx.gw.call("POST", "/v1/routes", { name, target: { url: fx.sink.url() } }),
        await fx.gw.call("PATCH", `/v1/routes/${route.id}`, { name }),
        await fx.gw.call("POST", "/v1/sources", { name, kind: "generic" }),
        await fx.gw.call("PATCH", `/v1/sources/${source.id}`, { name }),
      ];
      for (const res of answers) {
        assert.equal(res.status, 400, JSON.stringify(res.json));
        assert.equal(res.json.error.code, "HG_ERR_VALIDATION");
        const detail = res.json.error.details.find((d: { path: string }) => d.path === "name");
        assert.match(detail?.message ?? "", /control characters.*bidirectional/, JSON.stringify(res.json));
      }
    }
    assert.equal((await fx.gw.call("GET", `/v1/routes/${route.id}`)).json.name, "r");
  });

  it("shows an event type's NUL and bidi override in /metrics as escapes", async () => {
    const type = "message\u0000New\u202Etxt";
    assert.equal((await fx.gw.call("POST", "/v1/events", { type, data: {} })).status, 202);
    const res = await fx.gw.app.inject({
      url: "/metrics",
      headers: { authorization: `Bearer ${fx.gw.token}` },
    });
    assert.equal(res.statusCode, 200);
    assert.ok(!res.body.includes("\u0000") && !res.body.includes("\u202E"));
    const types = parseProm(res.body)
      .filter((s) => s.name === "hookgate_events_received_total")
      .map((s) => s.labels.type);
    assert.ok(types.includes("message\\u0000New\\u202etxt"), JSON.stringify(types));
  });
});

describe("a 3xx answer", () => {
  it("is not followed and fails at once, without retries (301, 302, 307)", async () => {
    const route = await createRoute({ events: ["moved"], retry: { scheduleMs: [50, 50, 50] } });
    const elsewhere = fx.sink.url("/elsewhere");
    fx.sink.respond = (req) =>
      req.url === "/hook"
        ? { status: Number(JSON.parse(req.body).data.status), headers: { location: elsewhere } }
        : { status: 200 };
    for (const status of [301, 302, 307]) {
      assert.equal((await fx.gw.call("POST", "/v1/events", { type: "moved", data: { status } })).status, 202);
    }
    const failed = await waitUntil(async () => {
      const { json } = await fx.gw.call("GET", `/v1/deliveries?routeId=${route.id}&status=failed`);
      return json.deliveries.length === 3 ? json.deliveries : undefined;
    });
    for (const d of failed) {
      assert.equal(d.attemptCount, 1, JSON.stringify(d));
      assert.match(d.error.message, /redirect not followed/);
    }
    // Failed is final: nothing more can be sent for them. The sink saw each once, never the Location.
    assert.deepEqual(
      fx.sink.requests.map((r) => r.url),
      ["/hook", "/hook", "/hook"],
    );
  });
});

describe("a template whose helpers work without writing", () => {
  const template = { kind: "text", body: "{{#each data.x}}{{join @root.data.x '' key='k'}}{{/each}}" };
  const event = { type: "quadratic", data: { x: Array.from({ length: 10_000 }, () => ({})) } };

  it("fails that route's render with a template error; the dry-run answers and a sibling route delivers", async () => {
    const route = await createRoute({ name: "quadratic", events: ["quadratic"], template });
    const dry = await fx.gw.call("POST", "/v1/dry-run", { routeId: route.id, event });
    assert.equal(dry.status, 200, JSON.stringify(dry.json).slice(0, 300));
    assert.equal(dry.json.results[0].error.code, "HG_ERR_TEMPLATE_RENDER");
    assert.match(dry.json.results[0].error.message, /exceeds its work budget/);

    await createRoute({ name: "sibling", events: ["quadratic"] });
    const source = await createSource();
    assert.equal((await ingest(source.id, JSON.stringify(event))).status, 200);
    const [delivered] = await fx.sink.waitFor(1);
    assert.equal(JSON.parse(delivered?.body ?? "{}").type, "quadratic");
    const failed = await waitUntil(async () => {
      const { json } = await fx.gw.call("GET", `/v1/deliveries?routeId=${route.id}&status=failed`);
      return json.deliveries[0];
    });
    assert.equal(failed.error.code, "HG_ERR_TEMPLATE_RENDER");
    assert.equal(failed.attemptCount, 0);
  });
});

describe("event type globs", () => {
  it("match an unauthenticated type against a backtracking-prone glob without stalling the pipeline", async () => {
    await createRoute({ name: "globs", events: ["a*a*a*a*a*a*b", `${"a*".repeat(20)}b`] });
    const source = await createSource();
    for (const type of ["a".repeat(100), "a".repeat(200)]) {
      assert.equal((await ingest(source.id, JSON.stringify({ type, data: {} }))).status, 200);
    }
    // Matching runs on the main thread: a backtracking match of these would hold the sentinel
    // (and everything else) for minutes.
    await sentinelDelivered();
    assert.equal(fx.sink.requests.length, 1, "neither type matches");
  });
});
