import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { useGateway } from "../helpers/fixture.ts";

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
});
