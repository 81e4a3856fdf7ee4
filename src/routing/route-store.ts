import { HookgateError } from "../errors.ts";
import { Batcher, CallBatcher } from "../shared/batcher.ts";
import { defineScript, type Redis, type RedisScript } from "../shared/redis.ts";
import type { RedisKeys } from "../shared/redis-keys.ts";
import type { Route } from "./route-schema.ts";
import { type RouteState, routeStateOf } from "./route-state.ts";

/*
 * Routes live in one hash (id → JSON) and their walk order in one list. Every change bumps
 * `routes:rev`, which is all a walker has to read to know its cached table is current.
 * Changes that depend on what is stored run as Lua, so two API processes cannot interleave.
 */

// Moves the revision on. A revision made anew (Redis lost its data) starts from the clock, above
// any revision a cached table may hold, so no process keeps an old table as current.
const BUMP = `local function bump(key)
  if redis.call('EXISTS', key) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', key, string.format('%d', tonumber(t[1]) * 1000000 + tonumber(t[2])))
  end
  redis.call('INCR', key)
end`;

// KEYS: routes, order, rev, states, the route's versions. ARGV: id, json, expectedVersion ("" for
// create), state, history entry (JSON), versions kept. The version joins the route's history in
// the same call that stores it, so history never misses or invents a version.
// Returns 1, or 0 when the id is missing (update) / present (create), or -1 on version conflict.
const PUT_ROUTE = `${BUMP}
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[3] == '' then
  -- The same create run again (a command resent after a lost reply) is not a conflict.
  if current then return (current == ARGV[2]) and 1 or 0 end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('RPUSH', KEYS[2], ARGV[1])
else
  if not current then return 0 end
  if tostring(cjson.decode(current).version) ~= ARGV[3] then return -1 end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('HSET', KEYS[4], ARGV[1], ARGV[4])
redis.call('LPUSH', KEYS[5], ARGV[5])
redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[6]) - 1)
bump(KEYS[3])
return 1`;

// KEYS: routes, order, rev, states, the route's versions. ARGV: id. Returns 1 when the route was
// there. Its history goes with it: an id made again starts at version 1 (the audit trail, not
// the history, is what remembers deleted routes).
const DELETE_ROUTE = `${BUMP}
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[5])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('LREM', KEYS[2], 0, ARGV[1])
bump(KEYS[3])
return removed`;

// KEYS: routes, states. Fills in the state of each route that has none (see routeStateOf).
const SYNC_STATES = `
local routes = redis.call('HGETALL', KEYS[1])
for i = 1, #routes, 2 do
  if redis.call('HEXISTS', KEYS[2], routes[i]) == 0 then
    local r = cjson.decode(routes[i + 1])
    local state = 'on'
    if not r.enabled then
      local reason = r.disabledReason ~= nil and r.disabledReason ~= cjson.null
      state = (reason or r.whileDisabled ~= 'drop') and 'hold' or 'drop'
    end
    redis.call('HSET', KEYS[2], routes[i], state)
  end
end
return 1`;

// KEYS: states, then each send's route's sends set. ARGV: now (ms), then per send: route id,
// send, its deadline (ms). Answers each route's state; a send whose route is "on" is registered
// until endSend or its deadline, so a delete answered after this call waits for it (see
// untilSendsDone).
const BEGIN_SENDS = `
local now, out = ARGV[1], {}
for i = 2, #ARGV, 3 do
  local sends = KEYS[(i + 4) / 3]
  local state = redis.call('HGET', KEYS[1], ARGV[i])
  if not state then
    out[#out + 1] = 'deleted'
  elseif state ~= 'on' then
    out[#out + 1] = state
  else
    redis.call('ZREMRANGEBYSCORE', sends, '-inf', now)
    redis.call('ZADD', sends, ARGV[i + 2], ARGV[i + 1])
    redis.call('PEXPIREAT', sends, ARGV[i + 2])
    out[#out + 1] = 'on'
  end
end
return out`;

// KEYS: routes, order, rev. ARGV: ids in the new order. Returns 1, or 0 when the ids are not
// exactly the stored ones (a route added or removed meanwhile must not be lost from the walk).
const SET_ORDER = `${BUMP}
if redis.call('HLEN', KEYS[1]) ~= #ARGV then return 0 end
local seen = {}
for _, id in ipairs(ARGV) do
  if seen[id] or redis.call('HEXISTS', KEYS[1], id) == 0 then return 0 end
  seen[id] = true
end
redis.call('DEL', KEYS[2])
if #ARGV > 0 then redis.call('RPUSH', KEYS[2], unpack(ARGV)) end
bump(KEYS[3])
return 1`;

/** How many versions of each route are kept (newest first); older ones are dropped as new come. */
export const VERSIONS_KEPT = 50;

/** A send about to go out for a route, registered until it ends (or by its deadline). */
interface Send {
  routeId: string;
  send: string;
  deadlineMs: number;
  now: number;
}

/** Who made a change: the API key's id, or null (Hookgate itself, or before keys existed). */
export interface ChangedBy {
  keyId: string | null;
  /** The change put back this earlier version (POST /v1/routes/:id/rollback). */
  rollbackOf?: number;
}
const NOBODY: ChangedBy = { keyId: null };

/** One kept version of a route: the route as stored then, when, and by which key. */
export interface RouteVersion {
  version: number;
  changedAt: string;
  keyId: string | null;
  rollbackOf?: number;
  route: Route;
}

export class RouteStore {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #put: RedisScript;
  readonly #setOrder: RedisScript;
  readonly #delete: RedisScript;
  readonly #beginSends: RedisScript;
  readonly #sendsBegun: CallBatcher<Send, RouteState | "deleted">;
  readonly #sendsEnded: Batcher<Omit<Send, "deadlineMs" | "now">>;
  readonly #syncStates: RedisScript;
  #onDisabled: ((route: Route, reason: string) => void) | null = null;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
    this.#put = defineScript(redis, "hgPutRouteV", 5, PUT_ROUTE);
    this.#setOrder = defineScript(redis, "hgSetRouteOrder", 4, SET_ORDER);
    this.#delete = defineScript(redis, "hgDeleteRouteV", 5, DELETE_ROUTE);
    this.#beginSends = defineScript(redis, "hgBeginSends", null, BEGIN_SENDS);
    // The attempts of one tick register, and end, their sends in one round trip.
    this.#sendsBegun = new CallBatcher((sends) => this.#beginAll(sends));
    this.#sendsEnded = new Batcher((sends) => this.#endAll(sends));
    this.#syncStates = defineScript(redis, "hgSyncRouteStates", 2, SYNC_STATES);
  }

  /**
   * Writes the state of every route that has none (routes stored before states existed), from
   * the stored route, in one atomic call: a state written by a change is never overwritten.
   */
  async syncStates(): Promise<void> {
    const k = this.#keys;
    await this.#syncStates.run([k.routes, k.routeStates], []);
  }

  /**
   * Called right before a request goes out: the route's state now, and when it is "on" the send
   * is registered (until endSend, or its deadline should this process die) so that a delete
   * answered later has waited for it.
   */
  beginSend(
    routeId: string,
    send: string,
    deadlineMs: number,
    now = Date.now(),
  ): Promise<RouteState | "deleted"> {
    return this.#sendsBegun.add({ routeId, send, deadlineMs, now });
  }

  endSend(routeId: string, send: string): Promise<void> {
    return this.#sendsEnded.add({ routeId, send });
  }

  async #beginAll(sends: Send[]): Promise<(RouteState | "deleted")[]> {
    const keys = [this.#keys.routeStates];
    // The latest clock of the batch: registrations that ended before it are swept.
    const args: (string | number)[] = [Math.max(...sends.map((s) => s.now))];
    for (const s of sends) {
      keys.push(this.#keys.routeSends(s.routeId));
      args.push(s.routeId, s.send, s.deadlineMs);
    }
    return (await this.#beginSends.run(keys, args)) as (RouteState | "deleted")[];
  }

  async #endAll(sends: Omit<Send, "deadlineMs" | "now">[]): Promise<void> {
    const pipeline = this.#redis.pipeline();
    for (const s of sends) pipeline.zrem(this.#keys.routeSends(s.routeId), s.send);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** Waits until no send registered for the route is in flight (each ends by its deadline). */
  async untilSendsDone(routeId: string, pollMs = 20): Promise<void> {
    const key = this.#keys.routeSends(routeId);
    while ((await this.#redis.zcount(key, `(${Date.now()}`, "+inf")) > 0) {
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  async list(): Promise<Route[]> {
    const ids = await this.#redis.lrange(this.#keys.routeOrder, 0, -1);
    if (ids.length === 0) return [];
    const values = await this.#redis.hmget(this.#keys.routes, ...ids);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as Route);
  }

  async get(id: string): Promise<Route | null> {
    const value = await this.#redis.hget(this.#keys.routes, id);
    return value === null ? null : (JSON.parse(value) as Route);
  }

  async require(id: string): Promise<Route> {
    const route = await this.get(id);
    if (!route) throw new HookgateError("HG_ERR_NOT_FOUND", `route ${id} does not exist`);
    return route;
  }

  async revision(): Promise<number> {
    return Number((await this.#redis.get(this.#keys.routesRev)) ?? 0);
  }

  async create(route: Route, by: ChangedBy = NOBODY): Promise<void> {
    const ok = await this.#runPut(route, "", by);
    if (ok !== 1) throw new HookgateError("HG_ERR_CONFLICT", `route ${route.id} already exists`);
  }

  /** Stores `next` only if the stored route still has `next.version - 1` (optimistic locking). */
  async replace(next: Route, by: ChangedBy = NOBODY): Promise<void> {
    const ok = await this.#runPut(next, String(next.version - 1), by);
    if (ok === 0) throw new HookgateError("HG_ERR_NOT_FOUND", `route ${next.id} does not exist`);
    if (ok === -1) {
      throw new HookgateError(
        "HG_ERR_CONFLICT",
        `route ${next.id} was changed by another request; try again`,
      );
    }
  }

  /**
   * Applies `change` (which bumps the version) to the stored route and stores the result,
   * starting again from a fresh read when another request changed the route in between.
   * HG_ERR_NOT_FOUND when the route is gone; `change` returning null stores nothing.
   */
  async update(
    id: string,
    change: (route: Route) => Route | null,
    attempts = 5,
    by: ChangedBy = NOBODY,
  ): Promise<Route | null> {
    for (let i = 1; ; i++) {
      const next = change(await this.require(id));
      if (!next) return null;
      try {
        await this.replace(next, by);
        return next;
      } catch (err) {
        if (i >= attempts || !(err instanceof HookgateError && err.code === "HG_ERR_CONFLICT")) throw err;
      }
    }
  }

  /**
   * Turns a route off and says why; retried on a concurrent change, a no-op when it is gone.
   * Tells the onDisabled listener (Hookgate's own events) when this call is what turned it off.
   */
  async disable(id: string, reason: string, now = new Date()): Promise<void> {
    let stored: Route | null = null;
    try {
      stored = await this.update(id, (route) =>
        !route.enabled && route.disabledReason === reason
          ? null
          : {
              ...route,
              enabled: false,
              disabledReason: reason,
              version: route.version + 1,
              updatedAt: now.toISOString(),
            },
      );
    } catch (err) {
      const code = err instanceof HookgateError ? err.code : null;
      if (code !== "HG_ERR_NOT_FOUND" && code !== "HG_ERR_CONFLICT") throw err;
    }
    if (stored) this.#onDisabled?.(stored, reason);
  }

  /** Who hears of routes Hookgate turned off itself (one listener: the gateway's own events). */
  onDisabled(listener: (route: Route, reason: string) => void): void {
    this.#onDisabled = listener;
  }

  /** The route's kept versions, newest first (at most VERSIONS_KEPT). */
  async versions(id: string): Promise<RouteVersion[]> {
    const entries = await this.#redis.lrange(this.#keys.routeVersions(id), 0, -1);
    return entries.map((e) => JSON.parse(e) as RouteVersion);
  }

  async delete(id: string): Promise<boolean> {
    const k = this.#keys;
    const keys = [k.routes, k.routeOrder, k.routesRev, k.routeStates, k.routeVersions(id)];
    return (await this.#delete.run(keys, [id])) === 1;
  }

  async setOrder(ids: string[]): Promise<void> {
    const ok = await this.#run(this.#setOrder, ids);
    if (ok !== 1) {
      throw new HookgateError("HG_ERR_CONFLICT", "ids must name every route exactly once", [
        {
          path: "ids",
          message: "must name every route exactly once",
          expected: await this.#redis.lrange(this.#keys.routeOrder, 0, -1),
        },
      ]);
    }
  }

  async #runPut(route: Route, expectedVersion: string, by: ChangedBy): Promise<number> {
    const k = this.#keys;
    const entry: RouteVersion = {
      version: route.version,
      changedAt: route.updatedAt,
      keyId: by.keyId,
      ...(by.rollbackOf === undefined ? {} : { rollbackOf: by.rollbackOf }),
      route,
    };
    const keys = [k.routes, k.routeOrder, k.routesRev, k.routeStates, k.routeVersions(route.id)];
    const args = [
      route.id,
      JSON.stringify(route),
      expectedVersion,
      routeStateOf(route),
      JSON.stringify(entry),
      String(VERSIONS_KEPT),
    ];
    return (await this.#put.run(keys, args)) as number;
  }

  async #run(script: RedisScript, args: string[]): Promise<number> {
    const k = this.#keys;
    return (await script.run([k.routes, k.routeOrder, k.routesRev, k.routeStates], args)) as number;
  }
}
