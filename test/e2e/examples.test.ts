import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadRouteFile } from "../../src/routes-as-code/index.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

/** The examples in routes/ and functions/ are saved through the API and dry-run on sample events. */

let redis: RedisServer;
let gw: TestGateway;

before(async () => {
  redis = await startRedisServer({ appendonly: false });
  gw = await startTestGateway(redis.url);
});

after(async () => {
  await gw?.close();
  await redis?.stop();
});

const fixture = async (name: string) =>
  JSON.parse(await readFile(join("test/fixtures/events", `${name}.json`), "utf8")) as Record<string, unknown>;

// For each example route: the sample events it must take, and those it must leave alone.
const expectations: Record<string, { takes: string[]; leaves: string[] }> = {
  "invoices-to-billing.json": { takes: ["emailengine-message-new"], leaves: ["emailengine-message-bounce"] },
  "hard-bounces.json": { takes: ["emailengine-message-bounce"], leaves: ["emailengine-message-new"] },
};

describe("example routes", () => {
  it("has an expectation for every file in routes/", async () => {
    const files = (await readdir("routes")).filter((f) => f.endsWith(".json")).sort();
    assert.deepEqual(files, Object.keys(expectations).sort());
  });

  for (const [file, { takes, leaves }] of Object.entries(expectations)) {
    it(`${file} saves and walks its sample events as intended`, async () => {
      const route = await loadRouteFile(join("routes", file));
      const saved = await gw.call("POST", "/v1/routes", route);
      assert.equal(saved.status, 201, JSON.stringify(saved.json));
      for (const name of [...takes, ...leaves]) {
        const res = await gw.call("POST", "/v1/dry-run", { event: await fixture(name), routeId: saved.json.id });
        assert.equal(res.status, 200);
        const [result] = res.json.results;
        assert.equal(result.error, undefined, `${file} on ${name}: ${JSON.stringify(result.error)}`);
        assert.equal(result.matched, takes.includes(name), `${file} on ${name}`);
        if (result.matched) assert.doesNotThrow(() => JSON.parse(result.request.body));
      }
    });
  }
});
