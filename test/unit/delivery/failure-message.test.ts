import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { failureMessage } from "../../../src/delivery/attempt-runner.ts";

describe("failureMessage", () => {
  it("adds what the attempt ran into to the retry decision", () => {
    assert.equal(
      failureMessage("E_DNS", { errorMessage: "getaddrinfo ENOTFOUND hooks.example.invalid" }),
      "E_DNS: getaddrinfo ENOTFOUND hooks.example.invalid",
    );
    assert.equal(
      failureMessage("E_CONNECTION_REFUSED (5 attempts, retries exhausted)", {
        errorMessage: "connect ECONNREFUSED 127.0.0.1:9",
      }),
      "E_CONNECTION_REFUSED (5 attempts, retries exhausted): connect ECONNREFUSED 127.0.0.1:9",
    );
  });

  it("keeps the decision alone when the attempt has nothing more to say", () => {
    assert.equal(failureMessage("HTTP 503", { errorMessage: null }), "HTTP 503");
    assert.equal(failureMessage("HTTP 410 Gone", { errorMessage: "  " }), "HTTP 410 Gone");
  });
});
