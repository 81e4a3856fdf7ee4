/**
 * The adversarial corpus (test/sandbox/attacks.ts) through the real gateway: every attack as an
 * unsaved route in the dry-run, then all of them as saved routes walking real events next to a
 * healthy sibling route that must keep delivering. Functions get a 1 s deadline and a 32 MB heap.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";
import { type Attack, attacks } from "../sandbox/attacks.ts";

const fx = useGateway({
  // Long enough that CPU-heavy attacks (deep recursion, big outputs) end in their own error on a
  // loaded 2-core machine; the endless ones run concurrently, so this costs about a second a round.
  HOOKGATE_FUNCTION_TIMEOUT_MS: "1000",
  HOOKGATE_FUNCTION_MEMORY_MB: "32",
});

const event = (id: string) => ({
  id,
  type: "messageNew",
  account: "acme",
  data: { subject: "Invoice 42", from: { name: "Ada", address: "ada@example.com" } },
});

interface DeliveryOut {
  eventId: string;
  routeId: string;
  status: string;
  attemptCount: number;
  error: { code: string; message: string } | null;
}

/** Refused when saved: a compile-time problem never reaches an isolate. */
const refusedAtSave = (a: Attack) => "error" in a.expect && a.expect.error === "HG_ERR_SANDBOX_SYNTAX";

function expectedCodes(a: Attack): string[] {
  if (!("error" in a.expect)) return [];
  return a.underLoad ? [a.expect.error, a.underLoad] : [a.expect.error];
}

/** Messages are shown to users: never host paths or host stack frames. */
function assertCleanMessage(message: string, what: string): void {
  assert.doesNotMatch(message, /\/work\/|node:internal|file:\/\/|isolated-vm/, what);
}

async function assertHostHealthy(): Promise<void> {
  assert.equal((await fx.gw.call("GET", "/healthz")).status, 200);
  const plain: Record<string, unknown> = {};
  assert.equal(plain.polluted, undefined);
  assert.equal(typeof JSON.parse, "function");
  assert.equal(typeof process.exit, "function");
}

describe("adversarial corpus", () => {
  it("has at least 40 attacks with unique names", () => {
    assert.ok(attacks.length >= 40, `${attacks.length} attacks`);
    assert.equal(new Set(attacks.map((a) => a.name)).size, attacks.length);
  });

  it("every attack ends as its expected per-route outcome in the dry-run", async () => {
    const results = await Promise.all(
      attacks.map(async (a) => {
        const res = await fx.gw.call("POST", "/v1/dry-run", {
          event: event("dry-1"),
          route: { name: a.name, target: { url: fx.sink.url() }, [a.kind]: a.source },
        });
        return { a, res };
      }),
    );
    for (const { a, res } of results) {
      if (refusedAtSave(a)) {
        assert.equal(res.status, 400, a.name);
        assert.equal(res.json.error.code, "HG_ERR_FUNCTION_SYNTAX", a.name);
        continue;
      }
      assert.equal(res.status, 200, `${a.name}: ${JSON.stringify(res.json)}`);
      const [r] = res.json.results;
      const step = r[a.kind];
      if ("error" in a.expect) {
        assert.ok(
          expectedCodes(a).includes(step?.error?.code),
          `${a.name}: expected ${a.expect.error}, got ${JSON.stringify(step)}`,
        );
        assert.equal(r.error.code, step.error.code, a.name);
        assert.equal(r.fired, false, a.name);
        assert.equal(r.request, null, a.name);
        assertCleanMessage(step.error.message, a.name);
      } else if (a.kind === "filter") {
        assert.equal(step.result, a.expect.value, `${a.name}: ${JSON.stringify(step)}`);
        assert.equal(r.matched, true, a.name);
      } else {
        assert.deepEqual(step.output, a.expect.value, a.name);
        assert.equal(r.matched, true, a.name);
      }
    }
    await assertHostHealthy();
  });

  it("in real delivery every attack fails only its own route, twice in a row, while a sibling delivers", async () => {
    const live = attacks.filter((a) => !refusedAtSave(a));
    const routes = new Map<string, Attack>();
    // The healthy sibling first in walk order, the witness of pollution last.
    const healthy = await fx.gw.call("POST", "/v1/routes", {
      name: "healthy sibling",
      filter: "export default (e) => e.data.subject.startsWith('Invoice') && ({}).polluted === undefined",
      map: "export default (e) => ({ id: e.id, subject: e.data.subject })",
      target: { url: fx.sink.url("/healthy") },
    });
    assert.equal(healthy.status, 201);
    for (const [i, a] of live.entries()) {
      const res = await fx.gw.call("POST", "/v1/routes", {
        name: a.name,
        [a.kind]: a.source,
        target: { url: fx.sink.url(`/attack/${i}`) },
        retry: { scheduleMs: [] },
      });
      assert.equal(res.status, 201, `${a.name}: ${JSON.stringify(res.json)}`);
      routes.set(res.json.id, a);
    }
    for (const a of attacks.filter(refusedAtSave)) {
      const res = await fx.gw.call("POST", "/v1/routes", {
        name: a.name,
        [a.kind]: a.source,
        target: { url: fx.sink.url() },
      });
      assert.equal(res.status, 400, a.name);
    }

    for (const round of [1, 2]) {
      await fx.gw.call("POST", "/v1/events", event(`attack-${round}`));
      const deliveries = await waitUntil(
        async () => {
          const { json } = await fx.gw.call("GET", "/v1/deliveries?limit=500");
          const mine = (json.deliveries as DeliveryOut[]).filter((d) => d.eventId === `attack-${round}`);
          return mine.length >= live.length + 1 ? mine : undefined;
        },
        30_000,
        `round ${round} deliveries`,
      );
      for (const d of deliveries) {
        if (d.routeId === healthy.json.id) continue;
        const a = routes.get(d.routeId);
        assert.ok(a, `unexpected delivery for ${d.routeId}`);
        if ("error" in a.expect) {
          assert.equal(d.status, "failed", a.name);
          assert.equal(d.attemptCount, 0, a.name);
          assert.ok(
            expectedCodes(a).includes(d.error?.code ?? ""),
            `${a.name}: expected ${a.expect.error}, got ${JSON.stringify(d.error)}`,
          );
          assertCleanMessage(d.error?.message ?? "", a.name);
        } else {
          assert.notEqual(d.status, "failed", `${a.name}: ${JSON.stringify(d)}`);
        }
      }
      const fromHealthy = await fx.sink.waitFor(1);
      const healthyBodies = fromHealthy.filter((r) => r.url === "/healthy").map((r) => JSON.parse(r.body));
      await waitUntil(
        () =>
          fx.sink.requests.some((r) => r.url === "/healthy" && JSON.parse(r.body).id === `attack-${round}`),
        15_000,
        `healthy delivery ${round}`,
      );
      assert.ok(healthyBodies.every((b) => b.subject === "Invoice 42"));
    }

    // Safe-outcome maps delivered exactly their expected output.
    for (const [i, a] of live.entries()) {
      if ("error" in a.expect) continue;
      const got = await waitUntil(
        () => fx.sink.requests.filter((r) => r.url === `/attack/${i}`).length >= 2 || undefined,
        15_000,
        `deliveries of ${a.name}`,
      );
      assert.ok(got);
      if (a.kind === "map") {
        for (const r of fx.sink.requests.filter((x) => x.url === `/attack/${i}`)) {
          assert.deepEqual(JSON.parse(r.body), a.expect.value, a.name);
        }
      }
    }
    await assertHostHealthy();
  });
});
