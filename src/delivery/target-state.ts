import { defineScript, type Redis, type RedisScript } from "../shared/redis.ts";
import type { RedisKeys } from "../shared/redis-keys.ts";
import { type BreakerSettings, type BreakerView, breakerAt } from "./target-policy.ts";

/*
 * The state every worker shares about one target endpoint, changed only by Lua scripts so that
 * concurrent workers never lose an update: the circuit breaker (hash), the probe lock of a
 * half-open breaker, the GCRA rate limiter, a pause the receiver asked for (429, Discord's
 * bucket headers), and what the target answered lately, for operators (GET /v1/targets).
 */

// KEYS: breaker hash, probe lock, answers list, last success. ARGV: now, success (1/0), breaker
// failure (1/0), threshold, cooldownMs, maxCooldownMs, keepS, answer (JSON, or '' for none),
// answers kept. Returns {state, openUntil, failingSince (or -1)}.
const RECORD = `
local now = tonumber(ARGV[1])
if ARGV[8] ~= '' then
  redis.call('LPUSH', KEYS[3], ARGV[8])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[9]) - 1)
  redis.call('EXPIRE', KEYS[3], ARGV[7])
end
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('SET', KEYS[4], now, 'EX', ARGV[7])
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

// KEYS: breaker hash, probe lock, pause. An operator's resume: the pause is lifted and the
// breaker closed with its failure count and cooldown doubling reset. "Failing since" stays: no
// success has come since, and the route is still disabled if none comes for days.
const RESUME = `
redis.call('DEL', KEYS[2], KEYS[3])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'state', 'closed', 'failures', 0, 'openings', 0, 'openUntil', 0)
end
return 1`;

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

/** One answer of a target (or the lack of one), as kept for operators. */
export interface TargetAnswer {
  /** When it came (ms). */
  at: number;
  statusCode: number | null;
  errorCode: string | null;
  durationMs: number;
}

/** What an operator sees of a target's shared state at one moment. */
export interface TargetSnapshot {
  breaker: {
    state: BreakerView["state"];
    /** Consecutive failing attempts counted against the threshold. */
    failures: number;
    openUntil: number | null;
    failingSince: number | null;
  };
  pausedUntil: number | null;
  /** Newest first, at most ANSWERS_KEPT. */
  lastAnswers: TargetAnswer[];
  lastSuccessAt: number | null;
}

/** How many of a target's answers are kept (those not a plain success: see record). */
export const ANSWERS_KEPT = 10;
/** A success nobody needs to hear about is written at most this often per target and process. */
export const SUCCESS_NOTE_MS = 10_000;
/** Kept a while past the longest cooldown so "failing since" survives quiet periods. */
const KEEP_S = 30 * 24 * 3600;

export class TargetState {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #settings: BreakerSettings;
  readonly #record: RedisScript;
  readonly #admit: RedisScript;
  readonly #pause: RedisScript;
  readonly #resume: RedisScript;
  /** When this process last wrote each target's last success (see noteSuccess). */
  readonly #successNoted = new Map<string, number>();

  readonly #onError: (err: unknown, context: Record<string, unknown>) => void;

  /** @param onError told of a write nothing waits for (noteSuccess) that failed */
  constructor(
    redis: Redis,
    keys: RedisKeys,
    settings: BreakerSettings,
    onError: (err: unknown, context: Record<string, unknown>) => void = () => {},
  ) {
    this.#onError = onError;
    this.#redis = redis;
    this.#keys = keys;
    this.#settings = settings;
    this.#record = defineScript(redis, "hgTargetRecord", 4, RECORD);
    this.#admit = defineScript(redis, "hgTargetAdmit", 2, ADMIT);
    this.#pause = defineScript(redis, "hgTargetPause", 1, PAUSE);
    this.#resume = defineScript(redis, "hgTargetResume", 3, RESUME);
  }

  /**
   * Counts one attempt against (or for) the target and answers the breaker as it now stands;
   * `answer`, when given, joins the target's last answers in the same call.
   */
  async record(
    target: string,
    verdict: AttemptVerdict,
    now: number,
    answer?: TargetAnswer,
  ): Promise<BreakerView> {
    const s = this.#settings;
    const k = this.#keys;
    const [state, openUntil, failingSince] = (await this.#record.run(
      [k.target(target), k.targetProbe(target), k.targetAnswers(target), k.targetLastSuccess(target)],
      [
        now,
        verdict.success ? 1 : 0,
        verdict.breakerFailure ? 1 : 0,
        s.failureThreshold,
        s.cooldownMs,
        s.maxCooldownMs,
        KEEP_S,
        answer ? JSON.stringify(answer) : "",
        ANSWERS_KEPT,
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

  /**
   * A success the breaker did not need to hear of: its time is written, without being waited
   * for, at most every SUCCESS_NOTE_MS per target in this process, so the hot path of a healthy
   * target pays no round trip for it.
   */
  noteSuccess(target: string, now: number): void {
    const last = this.#successNoted.get(target);
    if (last !== undefined && now - last < SUCCESS_NOTE_MS) return;
    if (this.#successNoted.size >= 10_000) this.#successNoted.clear();
    this.#successNoted.set(target, now);
    this.#redis
      .set(this.#keys.targetLastSuccess(target), String(now), "EX", KEEP_S)
      .catch((err: unknown) => this.#onError(err, { target }));
  }

  /** Lifts the target's pause and closes its breaker, in one step. */
  async resume(target: string): Promise<void> {
    const k = this.#keys;
    await this.#resume.run([k.target(target), k.targetProbe(target), k.targetPause(target)], []);
  }

  /** Each target's state as an operator sees it at `now`, read in one round trip. */
  async snapshots(targets: readonly string[], now: number): Promise<TargetSnapshot[]> {
    if (targets.length === 0) return [];
    const k = this.#keys;
    const pipeline = this.#redis.pipeline();
    for (const t of targets) {
      pipeline.hgetall(k.target(t));
      pipeline.get(k.targetPause(t));
      pipeline.lrange(k.targetAnswers(t), 0, ANSWERS_KEPT - 1);
      pipeline.get(k.targetLastSuccess(t));
    }
    const replies = (await pipeline.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    const values = replies.map(([, v]) => v);
    return targets.map((_, i) => {
      const [h, pause, answers, ok] = values.slice(i * 4, i * 4 + 4) as [
        Record<string, string>,
        string | null,
        string[],
        string | null,
      ];
      return snapshotOf(h, pause, answers, ok, now);
    });
  }
}

/** Pure: the stored fields of one target as an operator sees them at `now`. */
export function snapshotOf(
  h: Record<string, string>,
  pause: string | null,
  answers: readonly string[],
  lastSuccess: string | null,
  now: number,
): TargetSnapshot {
  const view: BreakerView = {
    state: (h.state as BreakerView["state"] | undefined) ?? "closed",
    openUntil: Number(h.openUntil ?? 0),
    failingSince: h.failingSince === undefined ? null : Number(h.failingSince),
  };
  const state = breakerAt(view, now);
  const pausedUntil = pause === null ? 0 : Number(pause);
  return {
    breaker: {
      state,
      failures: Number(h.failures ?? 0),
      // A closed breaker keeps the end of its last open period in Redis; it means nothing now.
      openUntil: state === "closed" ? null : view.openUntil,
      failingSince: view.failingSince,
    },
    pausedUntil: pausedUntil > now ? pausedUntil : null,
    lastAnswers: answers.flatMap((a) => {
      try {
        return [JSON.parse(a) as TargetAnswer];
      } catch {
        return [];
      }
    }),
    lastSuccessAt: lastSuccess === null ? null : Number(lastSuccess),
  };
}
