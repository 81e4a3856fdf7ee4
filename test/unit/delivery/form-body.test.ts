import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { buildRequest, encodeFormBody, isRequestBuildError } from "../../../src/delivery/index.ts";
import { buildRoute, RouteInSchema } from "../../../src/routing/index.ts";

describe("form bodies", () => {
  it("turns a JSON object into fields URLSearchParams reads back", () => {
    const body = {
      text: "Invoice 42 & more = ok? 100% ✉️",
      n: 42,
      f: 1.5,
      yes: true,
      no: false,
      none: null,
      nested: { a: [1, "x"] },
      list: ["a", "b"],
      "key with spaces": "v",
    };
    const parsed = new URLSearchParams(encodeFormBody(JSON.stringify(body)));
    assert.deepEqual(
      [...parsed.keys()],
      ["text", "n", "f", "yes", "no", "none", "nested", "list", "key with spaces"],
    );
    assert.equal(parsed.get("text"), body.text);
    assert.equal(parsed.get("n"), "42");
    assert.equal(parsed.get("f"), "1.5");
    assert.equal(parsed.get("yes"), "true");
    assert.equal(parsed.get("no"), "false");
    assert.equal(parsed.get("none"), "");
    assert.deepEqual(JSON.parse(parsed.get("nested") ?? ""), { a: [1, "x"] });
    assert.deepEqual(JSON.parse(parsed.get("list") ?? ""), ["a", "b"]);
    assert.equal(parsed.get("key with spaces"), "v");
  });

  it("refuses a body that is not a JSON object with E_FORM_BODY", () => {
    for (const body of ["[1,2]", '"text"', "3", "null", "not json"]) {
      assert.throws(
        () => encodeFormBody(body),
        (err) => isRequestBuildError(err) && err.code === "E_FORM_BODY",
        body,
      );
    }
  });

  it("is sent as application/x-www-form-urlencoded, signed over the encoded bytes", () => {
    const route = buildRoute(
      RouteInSchema.parse({
        name: "r",
        target: {
          url: "https://example.com/h",
          format: "form",
          signing: { scheme: "hmac-sha256", secret: "form-secret-0123456" },
        },
      }),
    );
    const req = buildRequest(route, {
      messageId: "dlv_1",
      body: JSON.stringify({ subject: "a b&c", ok: true }),
      contentType: "application/json",
    });
    assert.equal(req.headers["content-type"], "application/x-www-form-urlencoded");
    assert.equal(req.body, "subject=a+b%26c&ok=true");
    const expected = createHmac("sha256", "form-secret-0123456").update(req.body).digest("hex");
    assert.equal(req.headers["x-hookgate-signature"], expected);
  });
});
