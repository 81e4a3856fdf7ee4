import type { Redis as NodeClient } from "ioredis";
import { HookgateError } from "../errors.ts";
import { Batcher } from "./batcher.ts";

/**
 * Redis replicates asynchronously: a primary that fails right after a write may take it with it
 * when its replica is promoted. WAIT blocks until `replicas` replicas have every write made so
 * far on the connection, so an event confirmed here survives a failover to one of them
 * (https://redis.io/docs/latest/commands/wait/). WAIT holds its connection while it waits: it is
 * sent on the ingest's own connection, and the callers of one moment share one WAIT.
 */
export class ReplicaAcks {
  readonly #batch: Batcher<null>;

  /**
   * @param server the connection the writes went over (for a Cluster, its connection to the
   *   primary of the gateway's slot), read at each WAIT
   * @param replicas how many replicas must confirm
   * @param timeoutMs how long to wait for them before refusing
   */
  constructor(server: () => NodeClient, replicas: number, timeoutMs: number) {
    this.#batch = new Batcher(async () => {
      const confirmed = await server().wait(replicas, timeoutMs);
      if (confirmed < replicas)
        throw new HookgateError(
          "HG_ERR_UNAVAILABLE",
          `Redis replicas did not confirm the write in ${timeoutMs} ms (${confirmed} of ${replicas}); send it again`,
        );
    }, Number.MAX_SAFE_INTEGER);
  }

  /** Settles once the replicas have every write this connection made before the call. */
  confirm(): Promise<void> {
    return this.#batch.add(null);
  }
}
