import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * A receiver that answers a status and part of a body but never ends it: the attempt times out
 * (E_RESPONSE_TOO_SLOW with the status it did send), and the bytes it did send are what the
 * delivery record and the route test show, the only clue an operator has to why it stalled.
 */

const fx = useGateway();
const PART = '{"accepted": true, "queue": "slow-'; // the receiver stops mid-body

beforeEach(async () => {
  await fx.reset();
  fx.sink.respond = () => ({
    status: 200,
    headers: { "content-type": "application/json" },
    body: PART,
    unfinished: true,
  });
});

async function createRoute(): Promise<string> {
  const res = await fx.gw.call("POST", "/v1/routes", {
    name: "stalls",
    target: { url: fx.sink.url(), timeoutMs: 500, signing: { scheme: "none" } },
    // Only the first attempt matters here.
    retry: { scheduleMs: [3_600_000] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json.id;
}

describe("a response body that never ends", () => {
  it("is recorded with the status and the bytes that were read", async () => {
    const routeId = await createRoute();
    const posted = await fx.gw.call("POST", "/v1/events", {
      id: "unfinished-1",
      type: "messageNew",
      data: {},
    });
    assert.equal(posted.status, 202);
    const attempt = await waitUntil(
      async () => {
        const list = await fx.gw.call("GET", `/v1/deliveries?routeId=${routeId}`);
        const id = list.json.deliveries[0]?.id;
        if (!id) return undefined;
        const one = await fx.gw.call("GET", `/v1/deliveries/${id}`);
        return one.json.attempts?.[0];
      },
      20_000,
      "the first attempt to be recorded",
    );
    assert.equal(attempt.statusCode, 200);
    assert.equal(attempt.errorCode, "E_RESPONSE_TOO_SLOW");
    assert.equal(attempt.responseExcerpt, PART);
  });

  it("shows the bytes that were read in a route test", async () => {
    const routeId = await createRoute();
    const res = await fx.gw.call("POST", `/v1/routes/${routeId}/test`);
    assert.equal(res.status, 200);
    assert.equal(res.json.statusCode, 200);
    assert.equal(res.json.error?.code, "E_RESPONSE_TOO_SLOW");
    assert.equal(res.json.responseExcerpt, PART);
  });
});
