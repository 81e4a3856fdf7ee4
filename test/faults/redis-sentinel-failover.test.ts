import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { type RedisSentinels, startRedisSentinels } from "../helpers/redis-cluster.ts";
import { Sink } from "../helpers/sink.ts";
import {
  assertNothingAcceptedLost,
  describeFailover,
  killThePrimary,
  postThroughFailover,
  untilReady,
} from "./failover-load.ts";
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
  const figures = await postThroughFailover({
    gw,
    token: TOKEN,
    sink,
    ...killThePrimary(() => deployment.primary(), first),
  });
  t.diagnostic(describeFailover(figures));
  await untilReady(gw);

  assertNothingAcceptedLost(figures, gw);
});
