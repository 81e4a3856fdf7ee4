import { after, before } from "node:test";
import { startTestGateway, type TestGateway } from "./gateway.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";
import { Sink } from "./sink.ts";

export interface GatewayFixture {
  readonly redis: RedisServer;
  readonly sink: Sink;
  readonly gw: TestGateway;
  /** No routes, no recorded requests, and a sink that answers 200: call it in beforeEach. */
  reset(): Promise<void>;
}

function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not started: use the fixture inside tests`);
  return value;
}

/**
 * A real Redis, a real loopback sink and a real gateway for the test file that calls this at its
 * top level: started in `before`, stopped in `after`.
 */
export function useGateway(
  env: Record<string, string> = {},
  redisOptions: { appendonly?: boolean } = {},
): GatewayFixture {
  let redis: RedisServer | undefined;
  let sink: Sink | undefined;
  let gw: TestGateway | undefined;
  before(async () => {
    redis = await startRedisServer(redisOptions);
    sink = await new Sink().listen();
    gw = await startTestGateway(redis.url, env);
  });
  after(async () => {
    await gw?.close();
    await sink?.close();
    await redis?.stop();
  });
  return {
    get redis() {
      return present(redis, "redis");
    },
    get sink() {
      return present(sink, "sink");
    },
    get gw() {
      return present(gw, "gateway");
    },
    async reset() {
      const g = present(gw, "gateway");
      const s = present(sink, "sink");
      const { json } = await g.call("GET", "/v1/routes");
      for (const r of json.routes) await g.call("DELETE", `/v1/routes/${r.id}`);
      s.requests.length = 0;
      s.respond = () => ({ status: 200, body: "ok" });
    },
  };
}
