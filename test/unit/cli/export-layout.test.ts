import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { toRouteOut } from "../../../src/api/route-out.ts";
import { exportRoute, slugOf } from "../../../src/cli/export-routes.ts";
import { expandedObjects, formatJson } from "../../../src/cli/json-layout.ts";
import { loadRouteFile } from "../../../src/routes-as-code/index.ts";
import { applyRoutePatch, buildRoute } from "../../../src/routing/index.ts";

const ROUTES = resolve(import.meta.dirname, "../../../routes");

/** A route file as the gateway would show it once applied, and the file's own text and keys. */
async function appliedFrom(name: string) {
  const file = join(ROUTES, name);
  const text = await readFile(file, "utf8");
  const raw = JSON.parse(text) as Record<string, unknown>;
  const route = buildRoute(await loadRouteFile(file));
  const refs = {
    filterFile: raw.filterFile as string | undefined,
    mapFile: raw.mapFile as string | undefined,
  };
  const present = Object.fromEntries(Object.entries(refs).filter(([, v]) => v !== undefined));
  return { text, raw, route, refs: present };
}

describe("an exported route file rewritten over an existing one", () => {
  it("comes out byte for byte as each example in routes/ was written", async () => {
    const names = (await readdir(ROUTES)).filter((n) => n.endsWith(".json"));
    assert.ok(names.length >= 5);
    for (const name of names) {
      const { text, raw, route, refs } = await appliedFrom(name);
      const out = exportRoute(toRouteOut(route), slugOf(route.name), refs, "../functions", raw);
      assert.equal(formatJson(out.json, expandedObjects(text)), text, name);
    }
  });

  it("changes only the line of what changed, keeping the file's order, layout and spelled-out defaults", async () => {
    const { text, raw, route, refs } = await appliedFrom("invoices-to-billing.json");
    const changed = applyRoutePatch(route, { target: { timeoutMs: 7000 } });
    const out = exportRoute(toRouteOut(changed), slugOf(route.name), refs, "../functions", raw);
    const written = formatJson(out.json, expandedObjects(text));
    assert.equal(written, text.replace('"timeoutMs": 5000', '"timeoutMs": 7000'));
    // A default the file spells out stays; one it leaves out stays out.
    const spelled = { ...raw, enabled: true };
    const withDefault = exportRoute(toRouteOut(route), slugOf(route.name), refs, "../functions", spelled);
    assert.equal(withDefault.json.enabled, true);
    assert.equal(
      exportRoute(toRouteOut(route), slugOf(route.name), refs, "../functions", raw).json.enabled,
      undefined,
    );
  });

  it("lays out a new file on one line per value that fits, objects expanded only past the width", () => {
    const text = formatJson({
      name: "n",
      events: ["a", "b"],
      target: { url: `https://x.example/${"p".repeat(120)}` },
      retry: { scheduleMs: [1, 2] },
    });
    assert.equal(
      text,
      `{\n  "name": "n",\n  "events": ["a", "b"],\n  "target": {\n    "url": "https://x.example/${"p".repeat(120)}"\n  },\n  "retry": { "scheduleMs": [1, 2] }\n}\n`,
    );
    assert.deepEqual([...expandedObjects(text)], ["[]", '["target"]']);
  });
});
