import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addExamples } from "../../../src/api/openapi-examples.ts";

describe("addExamples", () => {
  const doc = {
    openapi: "3.1.0",
    paths: {
      "/v1/things/{id}": {
        put: {
          parameters: [
            { in: "path", name: "id", required: true },
            { in: "query", name: "dry", required: false },
          ],
          requestBody: { content: { "application/json": { schema: { type: "string" }, example: "x" } } },
          responses: {
            200: { description: "ok", content: { "application/json": { schema: { $ref: "#/c" } } } },
            404: { description: "no", content: { "application/json": { schema: { $ref: "#/e" } } } },
          },
        },
        delete: { responses: { 204: { description: "gone" } } },
      },
    },
  };

  it("puts named examples on the media types, renaming the body's type, and examples on parameters", () => {
    const out = addExamples(doc, {
      "put /v1/things/{id}": {
        request: { a: { summary: "A", value: "export default () => true" } },
        requestContentType: "application/javascript",
        responses: { 200: { ok: { summary: "OK", value: { id: "t_1" } } } },
        params: { id: "t_1" },
        query: { dry: true },
      },
    });
    const put = out.paths["/v1/things/{id}"].put;
    assert.deepEqual(put.requestBody.content, {
      "application/javascript": {
        schema: { type: "string" },
        examples: { a: { summary: "A", value: "export default () => true" } },
      },
    });
    assert.deepEqual((put.responses[200].content["application/json"] as { examples?: unknown }).examples, {
      ok: { summary: "OK", value: { id: "t_1" } },
    });
    assert.deepEqual(put.responses[404], doc.paths["/v1/things/{id}"].put.responses[404]);
    assert.deepEqual(
      put.parameters.map((p) => (p as { example?: unknown }).example),
      ["t_1", true],
    );
    assert.equal(out.paths["/v1/things/{id}"].delete, doc.paths["/v1/things/{id}"].delete);
    assert.equal(
      doc.paths["/v1/things/{id}"].put.requestBody.content["application/json"].example,
      "x",
      "the input is not changed",
    );
  });
});
