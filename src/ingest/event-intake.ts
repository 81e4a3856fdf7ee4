import { HookgateError } from "../errors.ts";
import type { HookgateEvent } from "../events/index.ts";
import { CallBatcher } from "../shared/batcher.ts";
import { defineScript, type Redis, type RedisScript } from "../shared/redis.ts";
import type { RedisKeys } from "../shared/redis-keys.ts";
import type { ReplicaAcks } from "../shared/replica-acks.ts";
import type { StorageGuard } from "../shared/storage-guard.ts";

/*
 * Accepting events is one Lua call for the requests of one tick: for each event, mark its id seen (SET NX with the
 * dedup window) and, only if it was new, append it to the events stream. Both happen or neither,
 * so an event is never marked seen without being stored, and the 202 goes back after Redis has it.
 * KEYS: events stream. ARGV: window seconds, seen-key prefix, then id/json pairs.
 * Returns one 1 (stored) or 0 (duplicate) per event.
 */
const ACCEPT = `
local out = {}
for i = 3, #ARGV, 2 do
  if redis.call('SET', ARGV[2] .. ARGV[i], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('XADD', KEYS[1], '*', 'e', ARGV[i + 1])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out`;

/** Requests per script call: a batch of 100 events per request makes this up to 6,400 events. */
const MAX_REQUESTS_PER_CALL = 64;

export interface Accepted {
  id: string;
  duplicate: boolean;
}

export class EventIntake {
  readonly #accept: RedisScript;
  readonly #keys: RedisKeys;
  readonly #windowS: number;
  readonly #storage: StorageGuard | null;
  readonly #requests: CallBatcher<readonly HookgateEvent[], number[]>;
  readonly #replicas: ReplicaAcks | null;

  /**
   * @param storage when given, events are refused while Redis has no room to walk and record them
   * @param replicas when given, events are accepted only once replicas have them too (over `redis`)
   */
  constructor(
    redis: Redis,
    keys: RedisKeys,
    dedupWindowS: number,
    storage: StorageGuard | null = null,
    replicas: ReplicaAcks | null = null,
  ) {
    this.#accept = defineScript(redis, "hgAcceptEvents", 1, ACCEPT);
    this.#keys = keys;
    this.#windowS = dedupWindowS;
    this.#storage = storage;
    this.#replicas = replicas;
    // Requests that arrive together (one event per webhook request, many in flight) share one
    // script call and one round trip; each still gets its answer only once Redis has its events.
    this.#requests = new CallBatcher((requests) => this.#acceptAll(requests), MAX_REQUESTS_PER_CALL);
  }

  async accept(events: readonly HookgateEvent[]): Promise<Accepted[]> {
    if (events.length === 0) return [];
    // Accepted means recorded later: refused while that could not be, rather than lost then.
    if (this.#storage && !this.#storage.verdict().acceptsEvents)
      throw new HookgateError("HG_ERR_STORAGE_FULL");
    const stored = await this.#requests.add(events);
    return events.map((e, i) => ({ id: e.id, duplicate: stored[i] !== 1 }));
  }

  /** One script call for the requests of one tick: per request, 1 (stored) or 0 per event. */
  async #acceptAll(requests: (readonly HookgateEvent[])[]): Promise<number[][]> {
    const args: string[] = [String(this.#windowS), this.#keys.seenEvent("")];
    for (const events of requests) for (const e of events) args.push(e.id, JSON.stringify(e));
    let stored: number[];
    try {
      stored = (await this.#accept.run([this.#keys.events], args)) as number[];
    } catch (err) {
      this.#storage?.noteError(err);
      throw err;
    }
    // Duplicates too: the first copy may still be on its way to the replicas.
    await this.#replicas?.confirm();
    let at = 0;
    return requests.map((events) => {
      const mine = stored.slice(at, at + events.length);
      at += events.length;
      return mine;
    });
  }
}
