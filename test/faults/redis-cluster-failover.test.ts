import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { keySlot } from "../../src/shared/redis.ts";
import { type RedisCluster, redisCli, startRedisCluster } from "../helpers/redis-cluster.ts";
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
 * A Redis Cluster of three primaries with a replica each, started here on loopback. The primary
 * that holds the gateway's slot is killed with SIGKILL while events arrive one per request; its
 * replica takes over, and the killed node, started again, rejoins as the new primary's replica
 * (until then no replica can confirm an event, so none is accepted). Every event answered 202 must reach the sink (duplicates are allowed, and
 * counted), and every event refused meanwhile must get a 503 in the one error shape, never a
 * 500 or no answer.
 */

const TOKEN = "cluster-failover-token-0123456789";
const PREFIX = "{hg}";

let cluster: RedisCluster;
let sink: Sink;
let gw: GatewayProcess;

before(async () => {
  cluster = await startRedisCluster();
  sink = await new Sink().listen();
  gw = await GatewayProcess.start({
    token: TOKEN,
    env: {
      HOOKGATE_REDIS_CLUSTER_NODES: cluster.seeds,
      HOOKGATE_KEY_PREFIX: PREFIX,
      HOOKGATE_LOCK_MS: "1500",
    },
  });
});

after(async () => {
  await gw?.dispose();
  await sink?.close();
  await cluster?.stop();
});

it("loses no accepted event when the primary of the gateway's slot is killed under load", async (t) => {
  const slot = keySlot(`${PREFIX}:events`);
  assert.equal(
    String(slot),
    await redisCli(cluster.nodes[0]?.port ?? 0, "CLUSTER", "KEYSLOT", `${PREFIX}:events`),
  );
  const first = await cluster.primaryOf(slot);
  assert.ok(first, "a primary serves the gateway's slot");
  const failover = killThePrimary(() => cluster.primaryOf(slot), first);
  const { kill, tookOver, rejoin } = failover;
  const figures = await postThroughFailover({ gw, token: TOKEN, sink, kill, tookOver, rejoin });
  t.diagnostic(describeFailover(figures));
  await untilReady(gw);

  assertNothingAcceptedLost(figures, gw);
  // Every key the gateway and BullMQ wrote is in the prefix's slot: no other node holds any.
  const holder = await cluster.primaryOf(slot);
  for (const node of cluster.nodes.filter((n) => n !== holder && n !== failover.killed()))
    assert.equal(await redisCli(node.port, "DBSIZE"), "0", `keys on node ${node.port}`);
});
