import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Redis } from "ioredis";
import { useGateway } from "../helpers/fixture.ts";

/*
 * Route history (issue 20): every stored version kept (the last 50), shown redacted, runnable
 * in the dry-run, and put back by a rollback that makes it a new version.
 */

const fx = useGateway();
beforeEach(() => fx.reset());

const INVOICE = 'export default (event) => /invoice/i.test(event.data.subject ?? "")';
const REFUND = 'export default (event) => /refund/i.test(event.data.subject ?? "")';
const KNOWN = { type: "messageNew", data: { subject: "Invoice 1043" } };

async function dryRun(routeId: string, version?: number) {
  const res = await fx.gw.call("POST", "/v1/dry-run", {
    event: KNOWN,
    routeId,
    ...(version === undefined ? {} : { version }),
  });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return { matched: res.json.results[0].matched as boolean, filter: res.json.results[0].filter };
}

describe("route versions and rollback", () => {
  it("a rollback restores what the dry-run gives for a known event, as a new version, keeping the current secret", async () => {
    const created = await fx.gw.call("POST", "/v1/routes", {
      name: "invoices",
      events: ["messageNew"],
      filter: INVOICE,
      target: { url: fx.sink.url(), signing: { scheme: "standard-webhooks" } },
    });
    assert.equal(created.status, 201);
    const id = created.json.id as string;
    assert.equal((await dryRun(id)).matched, true);

    assert.equal((await fx.gw.call("PATCH", `/v1/routes/${id}`, { filter: REFUND })).status, 200);
    const rotated = await fx.gw.call("POST", `/v1/routes/${id}/secret/rotate`, { graceS: 0 });
    assert.equal(rotated.status, 200);
    const secret = rotated.json.target.signing.secret as string;
    assert.equal((await dryRun(id)).matched, false, "the refund filter drops the invoice");
    assert.equal((await dryRun(id, 1)).matched, true, "the dry-run runs version 1 as it was");

    const list = await fx.gw.call("GET", `/v1/routes/${id}/versions`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.json.versions.map((v: { version: number; changed: string[]; keyId: string }) => [
        v.version,
        v.changed,
        v.keyId,
      ]),
      [
        [3, ["target.signing"], "admin"],
        [2, ["filter"], "admin"],
        [1, [], "admin"],
      ],
    );
    const v1 = await fx.gw.call("GET", `/v1/routes/${id}/versions/1`);
    assert.equal(v1.status, 200);
    assert.equal(v1.json.filter, INVOICE);
    assert.equal(v1.json.target.signing.secret, undefined, "a past version is shown redacted");

    const back = await fx.gw.call("POST", `/v1/routes/${id}/rollback`, { version: 1 });
    assert.equal(back.status, 200, JSON.stringify(back.json));
    assert.equal(back.json.version, 4, "history only grows");
    assert.equal(back.json.filter, INVOICE);
    assert.equal((await dryRun(id)).matched, true, "the rollback restores what the dry-run gives");
    const after = await fx.gw.call("GET", `/v1/routes/${id}/versions`);
    assert.deepEqual(after.json.versions[0].rollbackOf, 1);
    assert.deepEqual(after.json.versions[0].changed, ["filter"]);

    const redis = new Redis(fx.redis.url);
    try {
      const stored = JSON.parse((await redis.hget(`${fx.gw.prefix}:routes`, id)) ?? "{}");
      assert.equal(stored.target.signing.secret, secret, "the rotated-out secret does not come back");
    } finally {
      redis.disconnect();
    }

    const missing = await fx.gw.call("POST", `/v1/routes/${id}/rollback`, { version: 99 });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, "HG_ERR_NOT_FOUND");
    const noRoute = await fx.gw.call("POST", "/v1/dry-run", { event: KNOWN, version: 1 });
    assert.equal(noRoute.status, 400);
  });

  it("keeps the last 50 versions of a route, and none after it is deleted", async () => {
    const created = await fx.gw.call("POST", "/v1/routes", {
      name: "v0",
      target: { url: fx.sink.url(), signing: { scheme: "none" } },
    });
    const id = created.json.id as string;
    for (let n = 1; n <= 60; n++) {
      assert.equal((await fx.gw.call("PATCH", `/v1/routes/${id}`, { name: `v${n}` })).status, 200);
    }
    const list = await fx.gw.call("GET", `/v1/routes/${id}/versions`);
    const versions = list.json.versions as { version: number; changed: string[] | null }[];
    assert.equal(versions.length, 50);
    assert.equal(versions[0]?.version, 61);
    assert.equal(versions[49]?.version, 12);
    assert.deepEqual(versions[0]?.changed, ["name"]);
    assert.equal(versions[49]?.changed, null, "the version before the oldest kept is gone");
    assert.equal((await fx.gw.call("GET", `/v1/routes/${id}/versions/11`)).status, 404);
    assert.equal((await fx.gw.call("GET", `/v1/routes/${id}/versions/12`)).json.name, "v11");

    assert.equal((await fx.gw.call("DELETE", `/v1/routes/${id}`)).status, 204);
    const redis = new Redis(fx.redis.url);
    try {
      assert.equal(await redis.exists(`${fx.gw.prefix}:routes:versions:${id}`), 0);
    } finally {
      redis.disconnect();
    }
    assert.equal((await fx.gw.call("GET", `/v1/routes/${id}/versions`)).status, 404);
  });
});
