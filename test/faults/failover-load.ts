import assert from "node:assert/strict";
import { Agent, request } from "undici";
import { type RedisNode, redisCli } from "../helpers/redis-cluster.ts";
import type { Sink } from "../helpers/sink.ts";
import { waitUntil } from "../helpers/wait.ts";
import { DeliveryTally } from "./delivery-tally.ts";
import { untilAllDelivered } from "./fault-rig.ts";
import { apiClient, type GatewayProcess } from "./gateway-process.ts";

/*
 * Load through a Redis failover: events posted one per request (as EmailEngine sends them) from
 * several senders, the primary that holds the gateway's keys killed with SIGKILL partway, and the
 * sending kept up until every event has a 202. A refused event is sent again after a moment, as
 * a sender's own retries would; what counts is what the gateway answered and what reached the
 * sink.
 */

export const FAILOVER_EVENTS = Number(process.env.HOOKGATE_FAILOVER_EVENTS ?? 3000);
/** Longer than any answer may take: a request still unanswered then is a hang. */
const ANSWER_TIMEOUT_MS = 30_000;
/** How long the sending may take in all. */
const SENDING_LIMIT_MS = 180_000;

export interface FailoverOptions {
  gw: GatewayProcess;
  token: string;
  sink: Sink;
  events?: number;
  /** Requests in flight at once. */
  senders?: number;
  /** Kills the primary (SIGKILL). */
  kill(): Promise<void>;
  /** Whether another server has taken over as primary, as the deployment itself says. */
  tookOver(): Promise<boolean>;
  /**
   * Once another has taken over: starts the killed server again and waits until it is the new
   * primary's replica (an event accepted needs a replica to confirm it).
   */
  rejoin(): Promise<void>;
}

export interface FailoverFigures {
  events: number;
  requests: number;
  /** Events the gateway answered 202 for (each once). */
  accepted: number;
  /** Answers other than 202, by status and error code (`503 HG_ERR_UNAVAILABLE`). */
  refusals: Map<string, number>;
  /** Refusals whose body is not the one error shape. */
  misshapen: string[];
  /** Requests that got no answer: the connection failed, or no answer in ANSWER_TIMEOUT_MS. */
  unanswered: string[];
  acceptedAtKill: number;
  /** From the kill until the deployment names a new primary. */
  tookOverMs: number;
  /** From the kill until the killed server was back, as the new primary's replica. */
  rejoinedMs: number;
  /** From the kill until the gateway accepted an event again. */
  ingestGapMs: number;
  /** From the kill until every accepted event had reached the sink. */
  allDeliveredMs: number;
  lost: number;
  duplicates: number;
}

export async function postThroughFailover(o: FailoverOptions): Promise<FailoverFigures> {
  const events = o.events ?? FAILOVER_EVENTS;
  const senders = o.senders ?? 16;
  const call = apiClient(o.gw.url, o.token);
  const route = await call("POST", "/v1/routes", {
    name: "all",
    target: { url: o.sink.url(), signing: { scheme: "none" } },
    retry: { scheduleMs: [100, 200, 400, 800, 1600] },
  });
  if (route.status !== 201) throw new Error(`route: ${route.status} ${JSON.stringify(route.json)}`);

  const tally = new DeliveryTally(o.sink);
  const dispatcher = new Agent({
    connections: senders,
    headersTimeout: ANSWER_TIMEOUT_MS,
    bodyTimeout: ANSWER_TIMEOUT_MS,
  });
  const accepted = new Set<string>();
  const refusals = new Map<string, number>();
  const misshapen: string[] = [];
  const unanswered: string[] = [];
  let requests = 0;
  let killedAt = 0;
  let acceptedAtKill = 0;
  let tookOverMs = 0;
  let rejoinedMs = 0;
  let ingestGapMs = 0;
  let killing: Promise<void> | null = null;

  const post = async (n: number): Promise<boolean> => {
    const id = `failover-${n}`;
    const sentAt = performance.now();
    requests++;
    try {
      const res = await request(`${o.gw.url}/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${o.token}`, "content-type": "application/json" },
        body: JSON.stringify({ id, type: "messageNew", data: { n } }),
        dispatcher,
      });
      const text = await res.body.text();
      if (res.statusCode === 202) {
        accepted.add(id);
        if (killedAt && sentAt > killedAt && !ingestGapMs) ingestGapMs = performance.now() - killedAt;
        return true;
      }
      let code = "?";
      try {
        const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
        if (typeof error?.code !== "string" || typeof error.message !== "string") misshapen.push(text);
        else code = error.code;
      } catch {
        misshapen.push(text);
      }
      const key = `${res.statusCode} ${code}`;
      refusals.set(key, (refusals.get(key) ?? 0) + 1);
      return false;
    } catch (err) {
      unanswered.push(String(err));
      return false;
    }
  };

  // A gateway that never accepts again fails the test instead of keeping it running.
  const deadline = performance.now() + SENDING_LIMIT_MS;
  let next = 0;
  const sender = async () => {
    while (next < events) {
      const n = next++;
      while (!(await post(n))) {
        if (performance.now() > deadline)
          throw new Error(
            `event ${n} still refused after ${SENDING_LIMIT_MS} ms: ${[...refusals].join("; ")}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
      if (!killing && accepted.size >= events / 3) {
        acceptedAtKill = accepted.size;
        killing = (async () => {
          // From when the primary is gone: finding it may take a moment, and events accepted
          // meanwhile are accepted before the kill.
          await o.kill();
          killedAt = performance.now();
          await waitUntil(o.tookOver, 120_000, "a replica to take over");
          tookOverMs = performance.now() - killedAt;
          await o.rejoin();
          rejoinedMs = performance.now() - killedAt;
        })();
      }
    }
  };
  await Promise.all(Array.from({ length: senders }, sender));
  await killing;
  await dispatcher.close();

  const { recoveredMs, lost } = await untilAllDelivered(tally, accepted, () => killedAt);
  return {
    events,
    requests,
    accepted: accepted.size,
    refusals,
    misshapen,
    unanswered,
    acceptedAtKill,
    tookOverMs,
    rejoinedMs,
    ingestGapMs,
    allDeliveredMs: recoveredMs,
    lost,
    duplicates: tally.duplicates,
  };
}

/** One line for t.diagnostic. */
export function describeFailover(f: FailoverFigures): string {
  const refused = [...f.refusals].map(([k, n]) => `${n}× ${k}`).join(", ") || "none";
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return (
    `${f.events} events one per request, ${f.requests} requests: ${f.accepted} accepted (202), ` +
    `refused ${refused}; primary killed at ${f.acceptedAtKill} accepted; replica took over ${s(f.tookOverMs)} ` +
    `after the kill, the killed server was its replica ${s(f.rejoinedMs)} after it, ingest accepted again ${s(f.ingestGapMs)} after it; all delivered ${s(f.allDeliveredMs)} ` +
    `after it; lost ${f.lost}, duplicates ${f.duplicates}, unanswered ${f.unanswered.length}`
  );
}

/** /readyz answers 200 again (the gateway found the new primary for its checks too). */
export async function untilReady(gw: GatewayProcess): Promise<void> {
  await waitUntil(
    async () => {
      const res = await request(`${gw.url}/readyz`);
      await res.body.dump();
      return res.statusCode === 200;
    },
    60_000,
    "/readyz to answer 200",
  );
}

/**
 * kill, tookOver and rejoin for a deployment that names its primary (`primary()`): the primary
 * at the moment of the kill is killed (on a busy host a slow node may have been failed over
 * already), another one must take over, and the killed one comes back as its replica.
 */
export function killThePrimary(
  primary: () => Promise<RedisNode | null>,
  first: RedisNode,
): Pick<FailoverOptions, "kill" | "tookOver" | "rejoin"> & { killed(): RedisNode } {
  let killed = first;
  return {
    killed: () => killed,
    kill: async () => {
      killed = (await primary()) ?? first;
      await killed.kill();
    },
    tookOver: async () => {
      const now = await primary();
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
  };
}

/** What a failover must leave: every event accepted and delivered, every refusal our 503. */
export function assertNothingAcceptedLost(f: FailoverFigures, gw: GatewayProcess): void {
  assert.equal(f.accepted, f.events, "every event was accepted in the end");
  assert.equal(f.lost, 0, "every accepted event reached the sink");
  assert.deepEqual(f.unanswered, [], "every request got an answer");
  assert.deepEqual(f.misshapen, [], "every refusal has the one error shape");
  for (const [refusal] of f.refusals) assert.equal(refusal, "503 HG_ERR_UNAVAILABLE");
  assert.ok(f.refusals.size > 0, "events were sent while there was no primary");
  assert.ok(gw.alive, `the gateway survived the failover: ${gw.stderr}`);
}
