import type { Redis as NodeClient } from "ioredis";
import { HookgateError } from "../errors.ts";
import { Batcher } from "./batcher.ts";

/**
 * Redis replicates asynchronously: a primary that fails right after a write may take it with it
 * when its replica is promoted. WAIT blocks until `replicas` replicas have every write made so
 * far on the connection, so an event confirmed here survives a failover to one of them
 * (https://redis.io/docs/latest/commands/wait/). WAIT holds its connection while it waits: it is
 * sent on the ingest's own connection, and the callers of one moment share one WAIT.
 *
 * With fewer replicas online than required (after a failover, until the old primary is back as a
 * replica), nothing can be confirmed: callers are refused at once instead of waiting out the
 * timeout, and `ready` says so for /readyz.
 */
export class ReplicaAcks {
  readonly #server: () => NodeClient;
  readonly #replicas: number;
  readonly #batch: Batcher<null>;
  /** Replicas online at the last reading (INFO replication); optimistic until read. */
  #online = Number.POSITIVE_INFINITY;
  #timer: NodeJS.Timeout | null = null;

  /**
   * @param server the connection the writes went over (for a Cluster, its connection to the
   *   primary of the gateway's slot), read at each WAIT
   * @param replicas how many replicas must confirm
   * @param timeoutMs how long to wait for them before refusing
   */
  constructor(server: () => NodeClient, replicas: number, timeoutMs: number) {
    this.#server = server;
    this.#replicas = replicas;
    this.#batch = new Batcher(async () => {
      const confirmed = this.ready ? await server().wait(replicas, timeoutMs) : this.#online;
      if (confirmed < replicas)
        throw new HookgateError(
          "HG_ERR_UNAVAILABLE",
          `${confirmed} of the ${replicas} Redis replicas required confirmed the write` +
            `${this.ready ? ` in ${timeoutMs} ms` : " (no more are online)"}; send it again`,
        );
    }, Number.MAX_SAFE_INTEGER);
  }

  /** Reads how many replicas are online now, and every `intervalMs` from now on. */
  async start(intervalMs = 1000): Promise<void> {
    await this.sample();
    this.#timer = setInterval(() => void this.sample(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  async sample(): Promise<void> {
    try {
      const info = await this.#server().info("replication");
      this.#online = [...info.matchAll(/^slave\d+:.*\bstate=online\b/gm)].length;
    } catch {
      // Redis away: what is sent meanwhile fails on its own; keep the last reading.
    }
  }

  /** Whether enough replicas were online at the last reading for a write to be confirmed. */
  get ready(): boolean {
    return this.#online >= this.#replicas;
  }

  /** Settles once the replicas have every write this connection made before the call. */
  confirm(): Promise<void> {
    return this.#batch.add(null);
  }
}
