import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import {
  type RedisNode,
  type RedisSentinels,
  redisCli,
  startRedisSentinels,
} from "../helpers/redis-cluster.ts";
import { Sink } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";
import { describeFailover, postThroughFailover, untilReady } from "./failover-load.ts";
import { GatewayProcess } from "./gateway-process.ts";

/*
 * A primary, its replica and three Sentinels, started here on loopback. The primary is killed
 * with SIGKILL while events arrive one per request; the Sentinels promote the replica, and the
 * killed server, started again, is made the new primary's replica. Every event answered 202
 * must reach the sink (duplicates are allowed, and counted), and every event refused meanwhile
 * must get a 503 in the one error shape, never a 500 or no answer.
 */

const TOKEN = "sentinel-failover-token-0123456789";

let deployment: RedisSentinels;
let sink: Sink;
let gw: GatewayProcess;

before(async () => {
  deployment = await startRedisSentinels();
  sink = await new Sink().listen();
  gw = await GatewayProcess.start({
    token: TOKEN,
    env: {
      HOOKGATE_REDIS_SENTINELS: deployment.addresses,
      HOOKGATE_REDIS_SENTINEL_NAME: deployment.name,
      HOOKGATE_LOCK_MS: "1500",
    },
  });
});

after(async () => {
  await gw?.dispose();
  await sink?.close();
  await deployment?.stop();
});

it("loses no accepted event when the primary is killed under load and Sentinel promotes its replica", async (t) => {
  const first = await deployment.primary();
  assert.ok(first, "the Sentinels name a primary");
  let killed: RedisNode = first;
  const figures = await postThroughFailover({
    gw,
    token: TOKEN,
    sink,
    // The primary now, at the kill: on a busy host a slow node may have been failed over already.
    kill: async () => {
      killed = (await deployment.primary()) ?? first;
      await killed.kill();
    },
    tookOver: async () => {
      const now = await deployment.primary();
      return now !== null && now !== killed;
    },
    rejoin: async () => {
      await killed.restart();
      await waitUntil(
        async () => /master_link_status:up/.test(await redisCli(killed.port, "INFO", "replication")),
        60_000,
        "the restarted server to be the new primary's replica",
      );
    },
  });
  t.diagnostic(describeFailover(figures));
  await untilReady(gw);

  assert.equal(figures.accepted, figures.events, "every event was accepted in the end");
  assert.equal(figures.lost, 0, "every accepted event reached the sink");
  assert.deepEqual(figures.unanswered, [], "every request got an answer");
  assert.deepEqual(figures.misshapen, [], "every refusal has the one error shape");
  for (const [refusal] of figures.refusals) assert.equal(refusal, "503 HG_ERR_UNAVAILABLE");
  assert.ok(figures.refusals.size > 0, "events were sent while there was no primary");
  assert.ok(gw.alive, `the gateway survived the failover: ${gw.stderr}`);
});
