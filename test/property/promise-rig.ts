import { Redis } from "ioredis";
import { apiClient, GatewayProcess } from "../faults/gateway-process.ts";
import { parseProm, promValue } from "../helpers/prometheus.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { Sink, type SinkAnswer, type SinkRequest } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";

/*
 * The real system under the delivery-promise property test: one Redis with AOF, the gateway as
 * its own process (kill -9 and restart), and loopback sinks whose answers the test sets. One of
 * each for the whole file; `reset` empties them between sequences (the gateway is stopped while
 * Redis is flushed and started again on the empty data, so it recreates its stream group).
 */

const TOKEN = "property-suite-token-0123456789";
export const SINKS = 2;

/** How a sink answers, as the SetSink command sets it. */
export type Behaviour = "2xx" | "5xx" | "410" | "429" | "hang";
export const BEHAVIOURS: readonly Behaviour[] = ["2xx", "5xx", "410", "429", "hang"];

function answerOf(b: Behaviour): SinkAnswer {
  switch (b) {
    case "2xx":
      return { status: 200, body: "ok" };
    case "5xx":
      return { status: 503, body: "down" };
    case "410":
      return { status: 410, body: "gone" };
    case "429":
      return {
        status: 429,
        headers: { "retry-after": "1", "content-type": "text/plain" },
        body: "slow down",
      };
    case "hang":
      return { hang: true };
  }
}

/** A sink whose behaviour the test switches, remembering how it answered each request. */
export class ProgrammableSink {
  readonly sink = new Sink();
  behaviour: Behaviour = "2xx";
  readonly #answers = new WeakMap<SinkRequest, SinkAnswer>();

  constructor() {
    this.sink.respond = (req) => {
      const answer = answerOf(this.behaviour);
      this.#answers.set(req, answer);
      return answer;
    };
  }

  async listen(): Promise<this> {
    await this.sink.listen();
    return this;
  }

  get requests(): readonly SinkRequest[] {
    return this.sink.requests;
  }

  /** The status the sink answered (null: it hung, so the sender got no answer). */
  answered(req: SinkRequest): number | null {
    const a = this.#answers.get(req);
    if (!a || a.hang || a.reset) return null;
    return a.status ?? 200;
  }

  url(routeN: number): string {
    return this.sink.url(`/r/${routeN}`);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: delivery records are read as JSON
export type DeliveryRecord = Record<string, any>;

export class PromiseRig {
  redis!: RedisServer;
  gw!: GatewayProcess;
  sinks: ProgrammableSink[] = [];
  call!: ReturnType<typeof apiClient>;

  static async start(): Promise<PromiseRig> {
    const rig = new PromiseRig();
    rig.redis = await startRedisServer({ appendonly: true });
    rig.sinks = await Promise.all(Array.from({ length: SINKS }, () => new ProgrammableSink().listen()));
    rig.gw = await GatewayProcess.start({
      redisUrl: rig.redis.url,
      token: TOKEN,
      env: {
        // Work held by a killed process is taken over after 1.5 s; breakers reopen quickly.
        HOOKGATE_LOCK_MS: "1500",
        HOOKGATE_BREAKER_COOLDOWN_MS: "200",
        HOOKGATE_BREAKER_MAX_COOLDOWN_MS: "400",
      },
    });
    rig.call = apiClient(rig.gw.url, TOKEN);
    return rig;
  }

  /** Empty Redis, fresh sinks and a gateway started on the empty data, for the next sequence. */
  async reset(): Promise<void> {
    await this.gw.kill();
    const client = new Redis(this.redis.url, { maxRetriesPerRequest: 3 });
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
    await Promise.all(this.sinks.map((s) => s.sink.close()));
    this.sinks = await Promise.all(Array.from({ length: SINKS }, () => new ProgrammableSink().listen()));
    await this.gw.restart();
  }

  async stop(): Promise<void> {
    await this.gw?.dispose();
    await Promise.all(this.sinks.map((s) => s.sink.close()));
    await this.redis?.stop();
  }

  /** DELETE without a body (the API client always says its body is JSON, which an empty one is not). */
  async delete(path: string): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${this.gw.url}${path}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  /** kill -9 and start again on the same port and Redis. */
  async killAndRestart(): Promise<void> {
    await this.gw.kill();
    await this.gw.restart();
  }

  /** Redis stopped and started from its AOF; back when the gateway says it is ready. */
  async restartRedis(): Promise<void> {
    await this.redis.restart();
    await waitUntil(
      async () => (await this.call("GET", "/readyz")).status === 200,
      30_000,
      "the gateway to be ready after the Redis restart",
    );
  }

  /** The events stream as /metrics shows it: not yet walked, and read but not acknowledged. */
  async stream(): Promise<{ unwalked: number; pending: number } | null> {
    const text = await metricsText(this.gw.url);
    if (text === null) return null;
    const samples = parseProm(text);
    const unwalked = promValue(samples, "hookgate_events_stream_length");
    const pending = promValue(samples, "hookgate_events_pending");
    if (unwalked === undefined || pending === undefined || Number.isNaN(unwalked) || Number.isNaN(pending))
      return null;
    return { unwalked, pending };
  }

  /** Until every accepted event has been walked (its records written and its entry acknowledged). */
  async untilWalked(what: string): Promise<void> {
    await waitUntil(
      async () => {
        const s = await this.stream();
        return s !== null && s.unwalked === 0 && s.pending === 0;
      },
      60_000,
      `every accepted event walked (${what})`,
    );
  }

  /** Every delivery record of a route (the listing is newest first; one page holds them all here). */
  async deliveriesOf(
    routeId: string,
    status?: string,
  ): Promise<{ status: number; records: DeliveryRecord[] }> {
    const q = `routeId=${encodeURIComponent(routeId)}&limit=500${status ? `&status=${status}` : ""}`;
    const res = await this.call("GET", `/v1/deliveries?${q}`);
    if (res.status !== 200) return { status: res.status, records: [] };
    const records = res.json.deliveries as DeliveryRecord[];
    if (records.length >= 500) throw new Error(`route ${routeId} has 500+ records: page through them`);
    return { status: 200, records };
  }
}

async function metricsText(baseUrl: string): Promise<string | null> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const text = await res.text();
  return res.status === 200 ? text : null;
}
