import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { useGateway } from "../helpers/fixture.ts";

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
