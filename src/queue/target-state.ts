import type { BreakerSettings, BreakerView } from "../delivery/index.ts";
import { defineScript, type Redis, type RedisScript } from "../shared/redis.ts";
import type { RedisKeys } from "../shared/redis-keys.ts";

/*
 * The state every worker shares about one target endpoint, changed only by Lua scripts so that
 * concurrent workers never lose an update: the circuit breaker (hash), the probe lock of a
 * half-open breaker, the GCRA rate limiter and a pause the receiver asked for (429, Discord's
 * bucket headers).
 */

// KEYS: breaker hash, probe lock. ARGV: now, success (1/0), breaker failure (1/0), threshold,
// cooldownMs, maxCooldownMs, keepS. Returns {state, openUntil, failingSince (or -1)}.
const RECORD = `
local now = tonumber(ARGV[1])
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1], KEYS[2])
  return {'closed', 0, -1}
end
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil') or '0')
local failingSince = tonumber(redis.call('HGET', KEYS[1], 'failingSince') or '-1')
if failingSince < 0 then
  failingSince = now
  redis.call('HSET', KEYS[1], 'failingSince', now)
end
if ARGV[3] == '1' then
  local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
  local probing = state == 'open' and now >= openUntil
  if (state == 'closed' and failures >= tonumber(ARGV[4])) or probing then
    local openings = redis.call('HINCRBY', KEYS[1], 'openings', 1)
    local cooldown = math.min(tonumber(ARGV[5]) * math.pow(2, openings - 1), tonumber(ARGV[6]))
    state = 'open'
    openUntil = now + cooldown
    redis.call('HSET', KEYS[1], 'state', state, 'openUntil', openUntil)
    redis.call('DEL', KEYS[2])
  end
else
  -- An answer about the request (a 4xx, a 429): the endpoint is up, whatever the request's fate.
  redis.call('HSET', KEYS[1], 'failures', 0, 'state', 'closed', 'openings', 0)
  redis.call('DEL', KEYS[2])
  state = 'closed'
end
redis.call('EXPIRE', KEYS[1], ARGV[7])
return {state, openUntil, failingSince}`;

// KEYS: rate (GCRA theoretical arrival time), pause. ARGV: now, periodMs (0: no limit), burst.
// Returns 0 when a request may go now (and counts it), else how many ms to wait.
const ADMIT = `
local now = tonumber(ARGV[1])
local pausedUntil = tonumber(redis.call('GET', KEYS[2]) or '0')
if pausedUntil > now then return pausedUntil - now end
local period = tonumber(ARGV[2])
if period <= 0 then return 0 end
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local allowance = period * (tonumber(ARGV[3]) - 1)
if tat - now > allowance then return math.ceil(tat - now - allowance) end
redis.call('SET', KEYS[1], tostring(tat + period), 'PX', math.ceil(tat + period - now) + 1000)
return 0`;

// KEYS: pause. ARGV: until (ms), now. Only ever extends a pause.
const PAUSE = `
local untilMs = tonumber(ARGV[1])
if untilMs > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', math.max(1, untilMs - tonumber(ARGV[2])))
end
return 1`;

export interface AttemptVerdict {
  success: boolean;
  breakerFailure: boolean;
}

export class TargetState {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #settings: BreakerSettings;
  readonly #record: RedisScript;
  readonly #admit: RedisScript;
  readonly #pause: RedisScript;

  constructor(redis: Redis, keys: RedisKeys, settings: BreakerSettings) {
    this.#redis = redis;
    this.#keys = keys;
    this.#settings = settings;
    this.#record = defineScript(redis, "hgTargetRecord", 2, RECORD);
    this.#admit = defineScript(redis, "hgTargetAdmit", 2, ADMIT);
    this.#pause = defineScript(redis, "hgTargetPause", 1, PAUSE);
  }

  /** Counts one attempt against (or for) the target and answers the breaker as it now stands. */
  async record(target: string, verdict: AttemptVerdict, now: number): Promise<BreakerView> {
    const s = this.#settings;
    // Kept a while past the longest cooldown so "failing since" survives quiet periods.
    const keepS = 30 * 24 * 3600;
    const [state, openUntil, failingSince] = (await this.#record.run(
      [this.#keys.target(target), this.#keys.targetProbe(target)],
      [
        now,
        verdict.success ? 1 : 0,
        verdict.breakerFailure ? 1 : 0,
        s.failureThreshold,
        s.cooldownMs,
        s.maxCooldownMs,
        keepS,
      ],
    )) as [BreakerView["state"], number, number];
    return {
      state,
      openUntil: Number(openUntil),
      failingSince: failingSince < 0 ? null : Number(failingSince),
    };
  }

  async view(target: string): Promise<BreakerView> {
    const h = await this.#redis.hgetall(this.#keys.target(target));
    return {
      state: (h.state as BreakerView["state"] | undefined) ?? "closed",
      openUntil: Number(h.openUntil ?? 0),
      failingSince: h.failingSince === undefined ? null : Number(h.failingSince),
    };
  }

  /** One probe at a time through a half-open breaker, across every worker. */
  async claimProbe(target: string, holdMs: number): Promise<boolean> {
    const ok = await this.#redis.set(this.#keys.targetProbe(target), "1", "PX", Math.max(1, holdMs), "NX");
    return ok === "OK";
  }

  /** 0 when a request may go now (counted against the rate), else the ms to wait. */
  async admit(
    target: string,
    rate: { periodMs: number; burst: number } | null,
    now: number,
  ): Promise<number> {
    return Number(
      await this.#admit.run(
        [this.#keys.targetRate(target), this.#keys.targetPause(target)],
        [now, rate ? rate.periodMs : 0, rate ? rate.burst : 1],
      ),
    );
  }

  async pause(target: string, untilMs: number, now: number): Promise<void> {
    await this.#pause.run([this.#keys.targetPause(target)], [untilMs, now]);
  }
}
