/**
 * HOOKGATE_SANDBOX_RSS_MB reaches the gateway's sandbox: with a ceiling low enough that a few
 * dozen route isolates pass it (each takes about 3 MB of the sandbox process's resident memory),
 * the gateway replaces its sandbox process, and every event is still delivered by every route.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { it } from "node:test";
import { useGateway } from "../helpers/fixture.ts";

const fx = useGateway({ HOOKGATE_SANDBOX: "process", HOOKGATE_SANDBOX_RSS_MB: "128" });

/** The pids of this process's sandbox children (the gateway runs in this process). */
function sandboxPids(): number[] {
  const pids: number[] = [];
  for (const task of readdirSync("/proc/self/task")) {
    const children = readFileSync(`/proc/self/task/${task}/children`, "utf8").trim();
    for (const pid of children ? children.split(" ").map(Number) : []) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("sandbox-child")) pids.push(pid);
      } catch {
        // gone meanwhile
      }
    }
  }
  return pids;
}

it("replaces the sandbox process past HOOKGATE_SANDBOX_RSS_MB, every route delivering every event", async () => {
  // Groups of routes, each with a map of its own (an isolate of its own), each group taking its
  // own event type: every event adds a few isolates, so the sandbox process grows by steps and
  // is replaced between two of them (past 1.5 times the ceiling it would be killed instead).
  const GROUPS = 40;
  const PER_GROUP = 4;
  const routeIds: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    for (let r = 0; r < PER_GROUP; r++) {
      const res = await fx.gw.call("POST", "/v1/routes", {
        name: `group ${g} route ${r}`,
        events: [`rss${g}`],
        map: `export default (e) => ({ group: ${g}, route: ${r}, n: e.data.n })`,
        target: { url: fx.sink.url(), signing: { scheme: "none" } },
      });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      routeIds.push(res.json.id);
    }
  }
  let sent = 0;
  const send = async (g: number) => {
    const res = await fx.gw.call("POST", "/v1/events", { type: `rss${g}`, data: { n: sent } });
    assert.equal(res.status, 202, JSON.stringify(res.json));
    sent++;
    await fx.sink.waitFor(PER_GROUP * sent, 60_000);
  };
  await send(0);
  const [first] = sandboxPids();
  assert.ok(first !== undefined, "a sandbox process runs");
  let g = 1;
  while (sandboxPids().every((pid) => pid === first)) {
    assert.ok(g < GROUPS, `the sandbox process (${first}) was not replaced after ${g} groups of routes`);
    await send(g++);
  }
  // The new process takes every group again, the ones built in the old one included.
  for (let again = 0; again < g; again++) await send(again);
  const delivered = fx.sink.requests.map((r) => JSON.parse(r.body) as { group: number; route: number });
  assert.equal(delivered.length, PER_GROUP * sent);
  for (let k = 0; k < g; k++) {
    const routes = delivered.filter((b) => b.group === k).map((b) => b.route);
    assert.deepEqual(
      routes.sort((a, b) => a - b),
      [
        ...Array.from({ length: PER_GROUP }, (_, r) => r),
        ...Array.from({ length: PER_GROUP }, (_, r) => r),
      ].sort((a, b) => a - b),
      `group ${k}`,
    );
  }
});
