import { HookgateError } from "../errors.ts";
import type { HookgateEvent } from "../events/index.ts";
import { defineScript, type Redis, type RedisScript } from "../shared/redis.ts";
import type { RedisKeys } from "../shared/redis-keys.ts";
import type { ReplicaAcks } from "../shared/replica-acks.ts";
import type { StorageGuard } from "../shared/storage-guard.ts";

/*
 * Accepting events is one Lua call per request: for each event, mark its id seen (SET NX with the
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

export interface Accepted {
  id: string;
  duplicate: boolean;
}

export class EventIntake {
  readonly #accept: RedisScript;
  readonly #keys: RedisKeys;
  readonly #windowS: number;
  readonly #storage: StorageGuard | null;
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
  }

  async accept(events: readonly HookgateEvent[]): Promise<Accepted[]> {
    if (events.length === 0) return [];
    // Accepted means recorded later: refused while that could not be, rather than lost then.
    if (this.#storage && !this.#storage.verdict().acceptsEvents)
      throw new HookgateError("HG_ERR_STORAGE_FULL");
    const args: string[] = [String(this.#windowS), this.#keys.seenEvent("")];
    for (const e of events) args.push(e.id, JSON.stringify(e));
    let stored: number[];
    try {
      stored = (await this.#accept.run([this.#keys.events], args)) as number[];
    } catch (err) {
      this.#storage?.noteError(err);
      throw err;
    }
    // Duplicates too: the first copy may still be on its way to the replicas.
    await this.#replicas?.confirm();
    return events.map((e, i) => ({ id: e.id, duplicate: stored[i] !== 1 }));
  }
}
