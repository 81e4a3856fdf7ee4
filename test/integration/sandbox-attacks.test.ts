/**
 * The adversarial corpus (test/sandbox/attacks.ts) straight through a Sandbox, a few at a time,
 * each on its own route key, then the same attacks again on the same (rebuilt where needed)
 * isolates, and a healthy route after all of them.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { HookgateEvent } from "../../src/events/event-schema.ts";
import { Sandbox, type SandboxMode } from "../../src/sandbox/index.ts";
import { type Attack, attacks } from "../sandbox/attacks.ts";

const event: HookgateEvent = {
  id: "evt_attack",
  type: "messageNew",
  source: "emailengine",
  account: "acme",
  occurredAt: "2025-01-01T10:00:00.000Z",
  receivedAt: "2025-01-01T10:00:00.100Z",
  data: { subject: "Invoice 42", from: { name: "Ada", address: "ada@example.com" } },
};

async function runAll(sandbox: Sandbox, list: Attack[], width: number): Promise<void> {
  for (let i = 0; i < list.length; i += width) {
    await Promise.all(
      list.slice(i, i + width).map(async (a) => {
        const run = await sandbox.runRoute(
          { key: `attack-${attacks.indexOf(a)}@1`, [a.kind]: a.source },
          event,
        );
        const step = run[a.kind];
        assert.ok(step, a.name);
        if ("error" in a.expect) {
          const codes = a.underLoad ? [a.expect.error, a.underLoad] : [a.expect.error];
          assert.equal(step.ok, false, `${a.name}: ${JSON.stringify(step)}`);
          assert.ok(
            codes.includes(step.error?.code ?? "HG_ERR_SANDBOX_THROW"),
            `${a.name}: ${JSON.stringify(step)}`,
          );
          assert.doesNotMatch(step.error?.message ?? "", /\/work\/|node:internal|file:\/\/|isolated-vm/);
        } else {
          assert.equal(step.ok, true, `${a.name}: ${JSON.stringify(step)}`);
          assert.deepEqual(step.value, a.expect.value, a.name);
        }
      }),
    );
  }
}

const MODES: SandboxMode[] = ["inline", "process"];
for (const mode of MODES) {
  describe(`adversarial corpus through a Sandbox (${mode})`, () => {
    let sandbox: Sandbox;
    before(() => {
      sandbox = new Sandbox({ mode, timeoutMs: 1000, memoryLimitMb: 32 });
    });
    after(() => sandbox.dispose());

    it("every attack ends as expected, twice, and a healthy route still runs", async () => {
      await runAll(sandbox, attacks, 8);
      await runAll(sandbox, attacks, 8);
      const ok = await sandbox.runRoute(
        {
          key: "healthy@1",
          filter: "export default (e) => ({}).polluted === undefined && e.data.subject === 'Invoice 42'",
          map: "export default (e) => ({ to: hookgate.domainOf(e.data.from.address) })",
        },
        event,
      );
      assert.equal(ok.filter?.value, true);
      assert.deepEqual(ok.map?.value, { to: "example.com" });
      const plain: Record<string, unknown> = {};
      assert.equal(plain.polluted, undefined);
    });
  });
}
