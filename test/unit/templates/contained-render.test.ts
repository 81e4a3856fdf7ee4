import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ContainedRenderer, renderBody, type TemplateKind } from "../../../src/templates/index.ts";
import { RenderPool } from "../../../src/templates/render-pool.ts";

// Reads the list once per item without writing: work to the budget, no output.
const quadratic = {
  kind: "text" as TemplateKind,
  body: "{{#each data.x}}{{join @root.data.x '' key='k'}}{{/each}}",
};
const quadraticEvent = { data: { x: Array.from({ length: 10_000 }, () => ({})) } };
const list = { kind: "text" as TemplateKind, body: "{{#each data.x}}{{this}}{{/each}}" };

describe("ContainedRenderer", () => {
  const renderer = new ContainedRenderer({ threads: 1, timeLimitMs: 60_000 });
  after(() => renderer.close());

  it("renders a cheap template at once, on the calling thread", () => {
    const template = { kind: "slack" as TemplateKind, body: '{"text": "{{data.subject}}"}' };
    const payload = { data: { subject: "Hello" } };
    const rendered = renderer.render(template, payload, "cheap@1");
    assert.ok(!(rendered instanceof Promise), "no thread hop for a cheap render");
    assert.deepEqual(rendered, renderBody(template, payload, "cheap@1"));
    assert.equal(renderer.isOffThread("cheap@1"), false);
  });

  it("renders one past the inline budget in a thread, the same body as a whole-budget render", async () => {
    // 700k characters written: past the inline budget, well within the whole one.
    const payload = { data: { x: Array.from({ length: 70_000 }, () => "0123456789") } };
    const pending = renderer.render(list, payload, "big@1");
    assert.ok(pending instanceof Promise);
    assert.deepEqual(await pending, renderBody(list, payload, "big@1"));
    assert.equal(renderer.isOffThread("big@1"), true);
    // Later renders of that route version go to the thread at once, even small ones.
    const small = renderer.render(list, { data: { x: ["a"] } }, "big@1");
    assert.ok(small instanceof Promise);
    assert.equal((await small).body, "a");
  });

  it("fails a render that works to the whole budget with the template error, in the thread", async () => {
    const pending = renderer.render(quadratic, quadraticEvent, "quadratic@1");
    assert.ok(pending instanceof Promise);
    await assert.rejects(pending, (error: Error & { code?: string }) => {
      assert.equal(error.code, "HG_ERR_TEMPLATE_RENDER");
      assert.match(error.message, /^text template: the render exceeds its work budget/);
      return true;
    });
    // Another route is still rendered inline meanwhile and after.
    assert.equal((renderer.render(list, { data: { x: ["b"] } }, "other@1") as { body: string }).body, "b");
  });
});

describe("RenderPool", () => {
  it("stops a render past its time limit by terminating its thread; the next render gets a new one", async () => {
    const pool = new RenderPool({ threads: 1, timeLimitMs: 1 });
    try {
      await assert.rejects(
        pool.render("q", quadratic, quadraticEvent, "q@1"),
        /longer than 1 ms and was stopped/,
      );
      // A 1 ms limit may stop this one as well (a new thread starts in more than that): either way
      // a thread took it, answered or was stopped, instead of the render waiting forever.
      const outcome = await pool.render("q", list, { data: { x: ["c"] } }, "q@1").then(
        (r) => r.body,
        (e: Error) => e.message,
      );
      assert.match(outcome, /^(c|text template: the render took longer than 1 ms and was stopped)$/);
    } finally {
      await pool.close();
    }
  });

  it("fails what waits when closed, and what is asked after", async () => {
    const pool = new RenderPool({ threads: 1, timeLimitMs: 60_000 });
    const running = assert.rejects(pool.render("a", quadratic, quadraticEvent, "a@1"), /closed/);
    const waiting = assert.rejects(pool.render("a", list, { data: { x: ["d"] } }, "a@1"), /closed/);
    await pool.close();
    await running;
    await waiting;
    await assert.rejects(pool.render("a", list, { data: { x: [] } }, "a@1"), /closed/);
  });
});
