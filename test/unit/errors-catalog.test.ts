import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { type CatalogCode, ERROR_CODES, ErrorCatalog, type ErrorCodeEntry } from "../../src/errors.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

/*
 * The error catalog is the one home of every code (as Fastify's errors test does for FST_ERR_*):
 * the README's table lists each with the catalog's stage, status and retry, no code used in src/
 * is missing from it, and the OpenAPI document names every code the API answers with.
 */

const root = new URL("../../", import.meta.url).pathname;
const entries = Object.entries(ERROR_CODES) as [CatalogCode, ErrorCodeEntry][];
/** A code written as a whole string literal: how src/ uses one. */
const CODE_LITERAL = /["'`]((?:HG_ERR|E)_[A-Z][A-Z0-9_]*)["'`]/g;

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

describe("error catalog", () => {
  it("has a row in the README's table for every code, saying what the catalog says", async () => {
    const readme = await readFile(join(root, "README.md"), "utf8");
    const rows = new Map<string, string[]>();
    for (const line of readme.split("\n")) {
      const m = /^\| `((?:HG_ERR|E)_[A-Z0-9_]+)` \|(.*)\|$/.exec(line);
      if (m)
        rows.set(
          m[1] as string,
          (m[2] as string).split(" | ").map((c) => c.trim()),
        );
    }
    for (const [code, e] of entries) {
      const row = rows.get(code);
      assert.ok(row, `${code} has a row in the README's table of error codes`);
      const retried = e.retryable === undefined ? "" : e.retryable ? "yes" : "no";
      assert.deepEqual(row.slice(0, 3), [e.stage, String(e.status ?? ""), retried], `${code}'s row`);
    }
    const unknown = [...rows.keys()].filter((code) => !(code in ERROR_CODES));
    assert.deepEqual(unknown, [], "the README's table lists no code the catalog does not have");
  });

  it("has every code that src/ uses", async () => {
    const missing: string[] = [];
    let seen = 0;
    for (const file of await sourceFiles(join(root, "src"))) {
      const text = await readFile(file, "utf8");
      for (const [, code] of text.matchAll(CODE_LITERAL)) {
        seen++;
        if (!(code && code in ERROR_CODES)) missing.push(`${relative(root, file)}: ${code}`);
      }
    }
    assert.ok(seen > entries.length, `the scan found the codes src/ uses (${seen})`);
    assert.deepEqual(missing, []);
  });

  it("gives a status to the API's codes and a retry verdict only to attempt codes", () => {
    for (const [code, e] of entries) {
      assert.equal(code in ErrorCatalog, e.status !== undefined, code);
      if (e.retryable !== undefined) assert.match(code, /^E_/, `${code} is an attempt code`);
      assert.ok(e.description.length > 0 && !e.description.includes("\n"), `${code}: one line`);
    }
  });
});

describe("error catalog in the OpenAPI document", () => {
  let redis: RedisServer;
  let gw: TestGateway;

  before(async () => {
    redis = await startRedisServer({ appendonly: false });
    gw = await startTestGateway(redis.url, { HOOKGATE_ROLE: "api" });
  });

  after(async () => {
    await gw?.close();
    await redis?.stop();
  });

  it("lists every API code on the error schema's code", async () => {
    const res = await gw.call("GET", "/openapi.json");
    assert.equal(res.status, 200);
    const doc = res.json as {
      components: {
        schemas: { Error: { properties: { error: { properties: { code: { description?: string } } } } } };
      };
    };
    const described = doc.components.schemas.Error.properties.error.properties.code.description ?? "";
    const listed = new Set(described.match(/(?:HG_ERR|E)_[A-Z0-9_]+/g));
    assert.deepEqual([...listed].sort(), Object.keys(ErrorCatalog).sort());
  });
});
