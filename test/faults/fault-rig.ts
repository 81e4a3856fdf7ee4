import { after, before } from "node:test";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { Sink } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";
import type { DeliveryTally } from "./delivery-tally.ts";
import { apiClient, GatewayProcess } from "./gateway-process.ts";

/*
 * What the load-under-fault tests share: a Redis with AOF, a sink, the gateway as its own process
 * (claims taken over after 1.5 s), one route sending every event as it is to the sink, and the
 * wait until every accepted event has arrived.
 */

const TOKEN = "fault-suite-token-0123456789";
export const FAULT_EVENTS = Number(process.env.HOOKGATE_FAULT_EVENTS ?? 20_000);

export interface FaultRig {
  readonly redis: RedisServer;
  readonly sink: Sink;
  readonly gw: GatewayProcess;
  /** Creates the catch-all route; answers the API client to post events with. */
  route(): Promise<ReturnType<typeof apiClient>>;
}

/** Started in `before`, stopped in `after`, for the test file that calls it at its top level. */
export function useFaultRig(): FaultRig {
  let redis: RedisServer | undefined;
  let sink: Sink | undefined;
  let gw: GatewayProcess | undefined;
  before(async () => {
    redis = await startRedisServer({ appendonly: true });
    sink = await new Sink().listen();
    gw = await GatewayProcess.start({ redisUrl: redis.url, token: TOKEN, env: { HOOKGATE_LOCK_MS: "1500" } });
  });
  after(async () => {
    await gw?.dispose();
    await sink?.close();
    await redis?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the fault rig is not started: use it inside tests");
    return value;
  };
  return {
    get redis() {
      return started(redis);
    },
    get sink() {
      return started(sink);
    },
    get gw() {
      return started(gw);
    },
    async route() {
      const call = apiClient(started(gw).url, TOKEN);
      const res = await call("POST", "/v1/routes", {
        name: "all",
        target: { url: started(sink).url(), signing: { scheme: "none" } },
        retry: { scheduleMs: [100, 200, 400, 800, 1600] },
      });
      if (res.status !== 201) throw new Error(`route: ${res.status} ${JSON.stringify(res.json)}`);
      return call;
    },
  };
}

/**
 * Waits until every accepted event has reached the sink, then a second more so that whatever was
 * still in flight or queued for a retry is counted among the duplicates. Answers how long it took
 * from `since` (performance.now()) and how many accepted events never arrived.
 */
export async function untilAllDelivered(
  tally: DeliveryTally,
  accepted: ReadonlySet<string>,
  since: () => number,
): Promise<{ recoveredMs: number; lost: number }> {
  await waitUntil(
    () => tally.update().missing(accepted).length === 0,
    150_000,
    "every accepted event at the sink",
  );
  const recoveredMs = performance.now() - since();
  await new Promise((r) => setTimeout(r, 1000));
  tally.update();
  return { recoveredMs, lost: tally.missing(accepted).length };
}
