import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { RouteOutSchema } from "../../src/api/route-out.ts";
import { ErrorBodySchema } from "../../src/api/schemas.ts";
import { ConfigSchema } from "../../src/config/index.ts";
import { DeliveryOutSchema } from "../../src/delivery-log/index.ts";
import { SourceOutSchema } from "../../src/sources/index.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

/**
 * The OpenAPI document and Swagger UI: every operation has examples, and the request examples
 * are accepted by the endpoints they document. API role only: nothing saved here is delivered.
 */

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

interface Media {
  example?: unknown;
  examples?: Record<string, { summary: string; value: unknown }>;
}
interface Operation {
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}
type Doc = { paths: Record<string, Record<string, Operation>> };

let doc: Doc;
const op = (key: string): Operation => {
  const [method = "", path = ""] = key.split(" ");
  const found = doc.paths[path]?.[method];
  assert.ok(found, `${key} is in the document`);
  return found;
};
const requestExamples = (key: string) =>
  Object.entries(Object.values(op(key).requestBody?.content ?? {})[0]?.examples ?? {});
const responseExamples = (key: string, status: number) =>
  Object.values(op(key).responses[status]?.content?.["application/json"]?.examples ?? {}).map((e) => e.value);

describe("OpenAPI and /docs", () => {
  it("serves Swagger UI and the document without the token", async () => {
    const page = await gw.app.inject({ url: "/docs" });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    const ui = await gw.app.inject({ url: "/docs/static/swagger-ui-bundle.js" });
    assert.equal(ui.statusCode, 200);
    const openapi = await gw.app.inject({ url: "/openapi.json" });
    assert.equal(openapi.statusCode, 200);
    doc = JSON.parse(openapi.body);
    assert.equal((doc as unknown as { openapi: string }).openapi, "3.1.0");
    const viaUi = await gw.app.inject({ url: "/docs/json" });
    assert.deepEqual(JSON.parse(viaUi.body), doc);
  });

  it("has examples for every request body and every answer with a body", () => {
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const media = [
          ...Object.values(operation.requestBody?.content ?? {}),
          ...Object.entries(operation.responses)
            .filter(([status]) => status.startsWith("2"))
            .flatMap(([, r]) => Object.values(r.content ?? {})),
        ];
        if (media.some((m) => m.example === undefined && m.examples === undefined))
          missing.push(`${method} ${path}`);
      }
    }
    assert.deepEqual(missing, [], "add them in src/api/docs-examples.ts");
    assert.ok(
      op("put /v1/routes/{id}/{kind}").requestBody?.content["application/javascript"],
      "raw JS uploads",
    );
    assert.ok(op("get /metrics").responses[200]?.content?.["text/plain"], "metrics are text");
  });

  it('shows a real error answer, details as a list of {path, message}, not Swagger\'s "string"', () => {
    type ErrorSchema = {
      example?: unknown;
      properties: { error: { properties: { details: { type?: string } } } };
    };
    const schemas = (doc as unknown as { components: { schemas: Record<string, ErrorSchema> } }).components
      .schemas;
    const parsed = ErrorBodySchema.safeParse(schemas.Error?.example);
    assert.ok(parsed.success, JSON.stringify(schemas.Error?.example));
    assert.ok((parsed.data?.error.details?.length ?? 0) > 0);
    assert.equal(schemas.Error?.properties.error.properties.details.type, "array");
  });

  it("shows answers in the shapes the API answers with", () => {
    for (const key of [
      "post /v1/routes",
      "get /v1/routes/{id}",
      "patch /v1/routes/{id}",
      "post /v1/routes/{id}/secret/rotate",
    ]) {
      for (const value of responseExamples(key, key.startsWith("post") ? 201 : 200)) {
        assert.ok(RouteOutSchema.safeParse(value).success, key);
      }
    }
    for (const value of [
      ...responseExamples("post /v1/sources", 201),
      ...responseExamples("get /v1/sources/{id}", 200),
    ]) {
      assert.ok(
        SourceOutSchema.safeParse(value).success,
        JSON.stringify(SourceOutSchema.safeParse(value).error),
      );
    }
    for (const value of responseExamples("get /v1/deliveries/{id}", 200)) {
      assert.ok(
        DeliveryOutSchema.safeParse(value).success,
        JSON.stringify(DeliveryOutSchema.safeParse(value).error),
      );
    }
  });

  it("documents routes the API accepts, each firing on its system's sample", async () => {
    // The Mailpilot example's target authenticates with ${CRM_TOKEN}, read from the gateway's
    // environment when a request is built (the dry-run builds one).
    process.env.CRM_TOKEN = "crm-token-for-the-docs-test";
    const ids: string[] = [];
    for (const [name, { value }] of requestExamples("post /v1/routes")) {
      const res = await gw.call("POST", "/v1/routes", value);
      assert.equal(res.status, 201, `${name}: ${JSON.stringify(res.json)}`);
      ids.push(res.json.id);
    }
    const id = ids[0];
    for (const [name, { value }] of requestExamples("patch /v1/routes/{id}")) {
      const res = await gw.call("PATCH", `/v1/routes/${id}`, value);
      assert.equal(res.status, 200, `${name}: ${JSON.stringify(res.json)}`);
    }
    for (const [name, { value }] of requestExamples("put /v1/routes/{id}/{kind}")) {
      const res = await gw.call("PUT", `/v1/routes/${id}/filter`, value, {
        "content-type": "application/javascript",
      });
      assert.equal(res.status, 200, `${name}: ${JSON.stringify(res.json)}`);
    }
    const order = await gw.call("PUT", "/v1/routes/order", { ids: [...ids].reverse() });
    assert.equal(order.status, 200);
    for (const [name, { value }] of requestExamples("post /v1/routes/{id}/secret/rotate")) {
      const res = await gw.call("POST", `/v1/routes/${id}/secret/rotate`, value);
      assert.equal(res.status, 200, `${name}: ${JSON.stringify(res.json)}`);
    }
    for (const [name, { value }] of requestExamples("post /v1/routes/{id}/redrive")) {
      const res = await gw.call("POST", `/v1/routes/${id}/redrive`, value);
      assert.equal(res.status, 202, `${name}: ${JSON.stringify(res.json)}`);
    }

    for (const [name, { value }] of requestExamples("post /v1/dry-run")) {
      const body = { ...(value as Record<string, unknown>) };
      if (body.routeId) body.routeId = ids[2];
      const res = await gw.call("POST", "/v1/dry-run", body);
      assert.equal(res.status, 200, `${name}: ${JSON.stringify(res.json)}`);
      if (!body.route) continue;
      const [result] = res.json.results;
      assert.equal(result.error, undefined, `${name}: ${JSON.stringify(result.error)}`);
      assert.equal(result.matched, true, `the ${name} route takes the ${name} sample`);
    }
  });

  it("documents events the API accepts", async () => {
    for (const [name, { value }] of requestExamples("post /v1/events")) {
      const res = await gw.call("POST", "/v1/events", value);
      assert.equal(res.status, 202, `${name}: ${JSON.stringify(res.json)}`);
    }
  });

  it("documents sources the API accepts, and webhook bodies each of them ingests", async () => {
    const sources = new Map<string, { id: string; secret?: string; auth?: { value?: string } }>();
    for (const [name, { value }] of requestExamples("post /v1/sources")) {
      const res = await gw.call("POST", "/v1/sources", value);
      assert.equal(res.status, 201, `${name}: ${JSON.stringify(res.json)}`);
      sources.set(res.json.kind, res.json);
    }
    for (const [name, { value }] of requestExamples("patch /v1/sources/{id}")) {
      const kind = name === "auth" ? "mailpilot" : "emailengine";
      const res = await gw.call("PATCH", `/v1/sources/${sources.get(kind)?.id}`, value);
      assert.equal(res.status, 200, `${name}: ${JSON.stringify(res.json)}`);
      if (kind === "emailengine" && res.json.secret) sources.set(kind, res.json);
      if (kind === "mailpilot") sources.set(kind, res.json);
    }
    const hmac = (secret: string, body: string, encoding: "base64url" | "base64" | "hex") =>
      createHmac("sha256", secret).update(body).digest(encoding);
    for (const [kind, { value }] of requestExamples("post /v1/ingest/{sourceId}")) {
      const source = sources.get(kind);
      assert.ok(source, `a source example of kind ${kind}`);
      const body = JSON.stringify(value);
      const secret = source.secret ?? "";
      const headers: Record<string, Record<string, string>> = {
        emailengine: { "x-ee-wh-signature": hmac(secret, body, "base64url") },
        stalwart: { "x-signature": hmac(secret, body, "base64") },
        mailtrap: { "x-mailtrap-signature": hmac(secret, body, "hex") },
        mailslurp: {
          authorization: `Basic ${Buffer.from("hookgate:change-me-to-a-long-password").toString("base64")}`,
        },
        mailpilot: { authorization: source.auth?.value ?? "" },
      };
      const res = await gw.app.inject({
        method: "POST",
        url: `/v1/ingest/${source.id}`,
        headers: { "content-type": "application/json", ...headers[kind] },
        payload: body,
      });
      assert.equal(res.statusCode, 200, `${kind}: ${res.body}`);
      assert.equal(JSON.parse(res.body).accepted, 1, kind);
    }
  });

  it("lists every configuration variable in the README's table", async () => {
    const readme = await readFile("README.md", "utf8");
    const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Layout"));
    const listed = [...table.matchAll(/^\| `([A-Z_]+)` /gm)].map((m) => m[1]);
    assert.deepEqual(listed.sort(), Object.keys(ConfigSchema.shape).sort());
  });
});
