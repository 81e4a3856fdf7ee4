import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventInOf } from "../../../web/playground/src/event-input.ts";
import {
  createBody,
  dryRunTarget,
  formOfRoute,
  functionOf,
  parseEventGlobs,
  patchBody,
  type SavedRoute,
  templateFromForm,
} from "../../../web/playground/src/route-draft.ts";
import { detailLines, problemOf } from "../../../web/playground/src/server-problems.ts";

const saved: SavedRoute = {
  id: "rte_1",
  version: 3,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-02T00:00:00.000Z",
  name: "bounces",
  enabled: true,
  events: ["messageBounce"],
  filter: "export default () => true;",
  map: null,
  limits: null,
  template: { kind: "text", body: "{{type}}", contentType: "text/markdown" },
  target: {
    url: "https://example.com/hook",
    method: "POST",
    headers: { "x-api-key": "[redacted]" },
    signing: { scheme: "standard-webhooks" },
  },
  retry: { scheduleMs: [1000], on4xx: false },
  stop: false,
  ordering: "none",
  disabledReason: null,
  secretRotation: { previousSecretExpiresAt: "2026-01-03T00:00:00.000Z" },
};

describe("route drafts", () => {
  it("runs a saved route without changes by id, so it is signed with its own secret", () => {
    assert.deepEqual(dryRunTarget(formOfRoute(saved), saved), { routeId: "rte_1" });
    assert.deepEqual(patchBody(formOfRoute(saved), saved), {});
  });

  it("runs a changed route as a draft of every saved field plus the edits, without output-only fields", () => {
    const form = { ...formOfRoute(saved), map: "export default (e) => e;" };
    const target = dryRunTarget(form, saved);
    assert.ok("route" in target);
    const { route } = target;
    for (const field of [
      "id",
      "version",
      "createdAt",
      "updatedAt",
      "disabledReason",
      "secretRotation",
      "limits",
    ]) {
      assert.equal(field in route, false, field);
    }
    assert.equal(route.map, "export default (e) => e;");
    assert.deepEqual(route.retry, saved.retry);
    assert.deepEqual(route.target, saved.target);
  });

  it("patches only what changed; a target change names only its url", () => {
    const form = { ...formOfRoute(saved), targetUrl: "https://example.com/other", filter: null };
    assert.deepEqual(patchBody(form, saved), { target: { url: "https://example.com/other" }, filter: null });
  });

  it("creates a route from the form, leaving absent functions and template out", () => {
    const form = {
      name: "n",
      events: ["*"],
      targetUrl: "https://example.com/h",
      template: null,
      filter: null,
      map: "m",
    };
    assert.deepEqual(createBody(form), {
      name: "n",
      events: ["*"],
      target: { url: "https://example.com/h" },
      map: "m",
    });
    assert.deepEqual(dryRunTarget(form, null), { route: createBody(form) });
  });

  it("keeps template options the form does not show while the kind stays", () => {
    const previous = { kind: "text" as const, body: "x", contentType: "text/markdown" };
    assert.deepEqual(templateFromForm("text", "{{id}}", previous), {
      kind: "text",
      body: "{{id}}",
      contentType: "text/markdown",
    });
    assert.deepEqual(templateFromForm("slack", "  ", previous), { kind: "slack" });
    assert.equal(templateFromForm("", "{{id}}", previous), null);
  });

  it("reads event globs and blank functions", () => {
    assert.deepEqual(parseEventGlobs(" messageNew, message*  bounce "), ["messageNew", "message*", "bounce"]);
    assert.deepEqual(parseEventGlobs(" "), ["*"]);
    assert.equal(functionOf("  \n "), null);
    assert.equal(functionOf("return true;"), "return true;");
  });

  it("turns a walked event into one a client may send", () => {
    const walked = {
      id: "src_sample:1",
      type: "bounce",
      source: "src_sample",
      sourceKind: "mailtrap",
      account: null,
      occurredAt: "2026-01-01T00:00:00.000Z",
      receivedAt: "2026-01-01T00:00:01.000Z",
      data: { email: "a@example.com" },
    };
    assert.deepEqual(eventInOf(walked), {
      type: "bounce",
      source: "src_sample",
      occurredAt: "2026-01-01T00:00:00.000Z",
      data: { email: "a@example.com" },
    });
  });
});

describe("API problems in the editors", () => {
  it("points a function syntax error at its editor, line and column", () => {
    const error = {
      code: "HG_ERR_FUNCTION_SYNTAX",
      message: "map: Unexpected token ';' (line 2, column 5)",
      details: [{ path: "map", message: "Unexpected token ';'", line: 2, column: 5 }],
    };
    assert.deepEqual(problemOf(error), {
      editor: "map",
      line: 2,
      column: 5,
      message: "Unexpected token ';'",
    });
    assert.deepEqual(detailLines(error), [], "shown once, by the diagnostic");
  });

  it("points a template syntax error at the template editor", () => {
    const error = {
      code: "HG_ERR_TEMPLATE_SYNTAX",
      message: "template: html template does not compile at line 1, column 3: Parse error",
      details: [{ path: "template.body", message: "Parse error", line: 1, column: 3 }],
    };
    assert.deepEqual(problemOf(error), {
      editor: "template",
      line: 1,
      column: 3,
      message: "Parse error",
    });
  });

  it("lists validation details and points nowhere", () => {
    const error = {
      code: "HG_ERR_VALIDATION",
      message: "target.url: invalid URL",
      details: [{ path: "target.url", message: "invalid URL" }],
    };
    assert.equal(problemOf(error), null);
    assert.deepEqual(detailLines(error), ["target.url: invalid URL"]);
  });
});
