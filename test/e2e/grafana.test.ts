import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { useGateway } from "../helpers/fixture.ts";

/*
 * grafana/hookgate.json queries only what the gateway exports: every metric name in its
 * expressions is a family in a real gateway's GET /metrics (by its # TYPE line), and the
 * _bucket/_sum/_count series it reads belong to histograms.
 */

const fx = useGateway();

type Panel = { title: string; targets?: { expr: string }[] };

describe("Grafana dashboard", () => {
  it("queries only metrics the gateway exports, each with a series its type has", async () => {
    const dashboard = JSON.parse(
      await readFile(new URL("../../grafana/hookgate.json", import.meta.url), "utf8"),
    );
    const res = await fx.gw.app.inject({
      url: "/metrics",
      headers: { authorization: `Bearer ${fx.gw.token}` },
    });
    assert.equal(res.statusCode, 200);
    const types = new Map(
      [...res.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
    );
    const panels = dashboard.panels as Panel[];
    const queried = panels.flatMap((p) =>
      (p.targets ?? []).flatMap((t) =>
        [...t.expr.matchAll(/\bhookgate_[a-z0-9_]+/g)].map((m) => ({ panel: p.title, name: m[0] })),
      ),
    );
    assert.ok(queried.length >= 20, `${queried.length} metric names queried`);
    const problems: string[] = [];
    for (const { panel, name } of queried) {
      const suffix = /_(bucket|sum|count)$/.exec(name)?.[1];
      const family =
        suffix && types.get(name.slice(0, -suffix.length - 1)) === "histogram"
          ? name.slice(0, -suffix.length - 1)
          : name;
      const type = types.get(family);
      if (!type) problems.push(`${panel}: ${name} is not exported`);
      else if (type === "histogram" && !suffix)
        problems.push(`${panel}: ${name} is a histogram: query _bucket, _sum or _count`);
    }
    assert.deepEqual(problems, []);
    // Each area the issue names has a panel.
    const families = new Set(queried.map((q) => q.name.replace(/_(bucket|sum|count)$/, "")));
    for (const needed of [
      "hookgate_events_received_total",
      "hookgate_walks_total",
      "hookgate_function_calls_total",
      "hookgate_function_duration_seconds",
      "hookgate_delivery_attempts_total",
      "hookgate_delivery_attempt_duration_seconds",
      "hookgate_queue_jobs",
      "hookgate_circuit_breaker_state",
      "hookgate_sandbox_isolates",
    ])
      assert.ok(families.has(needed), `a panel for ${needed}`);
  });
});
