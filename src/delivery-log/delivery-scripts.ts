/*
 * The delivery log's Lua scripts, each atomic in Redis: what a record may become is decided
 * where it is stored. DeliveryLog (delivery-log.ts) runs them.
 */

// Records many deliveries in one call. KEYS: events stream, all-index, route states, then per
// delivery its record, route index, attempts list and held index. ARGV: createdAtMs, retentionS,
// maxCount, record key prefix, walk group, number of stream ids to acknowledge, those ids, then
// per delivery: status, first attempt JSON ('' if none), id, number of field/value items, the
// items. Per delivery it answers 1 when the caller should queue it (new and pending, or still
// pending after a crash), 2 when it was written finished or retrying (a walk error, a first
// attempt made from the walk), 0 when it existed. Memory stays bounded by age (TTL, index trim)
// and by count: past maxCount the oldest finished records are deleted (unfinished ones live on).
//
// It also acknowledges and deletes the walk's stream entries (XACK, XDEL on the events stream),
// which belong to the walker (walk/walker.ts), not to the log: when a walk's records are all that
// is left to write, this saves the walk its own round trip. The walker passes no ids, and
// acknowledges them itself, whenever it has more to do first.
export const CREATE = `
local now, retention, max, prefix = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
local nack = tonumber(ARGV[6])
local out, touched = {}, {}
local a, k = 7 + nack, 4
while a <= #ARGV do
  local status, attempt, id, n = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  local record, byRoute, attempts, held = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  if redis.call('EXISTS', record) == 1 then
    out[#out + 1] = (redis.call('HGET', record, 'status') == 'pending') and 1 or 0
  else
    redis.call('HSET', record, unpack(ARGV, a + 4, a + 3 + n))
    redis.call('EXPIRE', record, retention)
    if attempt ~= '' then
      redis.call('RPUSH', attempts, attempt)
      redis.call('EXPIRE', attempts, retention)
    end
    redis.call('ZADD', KEYS[2], now, id)
    redis.call('ZADD', byRoute, now, id)
    touched[byRoute] = true
    if status == 'held' then
      -- Held only while its route still holds: turned on (or dropping, or deleted) since the
      -- walk read it, it goes to the queue, where the attempt sees the route as it is now.
      if redis.call('HGET', KEYS[3], redis.call('HGET', record, 'routeId')) == 'hold' then
        redis.call('ZADD', held, 0, redis.call('HGET', record, 'order') .. '|' .. id)
        redis.call('EXPIRE', held, retention)
      else
        status = 'pending'
        redis.call('HSET', record, 'status', status)
      end
    end
    out[#out + 1] = (status == 'pending') and 1 or 2
  end
  a = a + 4 + n
  k = k + 4
end
local cutoff = now - tonumber(retention) * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
local over = redis.call('ZCARD', KEYS[2]) - max
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do
    local st = redis.call('HGET', prefix .. id, 'status')
    if st ~= 'pending' and st ~= 'retrying' and st ~= 'held' then
      redis.call('DEL', prefix .. id, prefix .. id .. ':attempts')
    end
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
for byRoute in pairs(touched) do
  redis.call('ZREMRANGEBYSCORE', byRoute, '-inf', cutoff)
  over = redis.call('ZCARD', byRoute) - max
  if over > 0 then redis.call('ZREMRANGEBYRANK', byRoute, 0, over - 1) end
end
if nack > 0 then
  redis.call('XACK', KEYS[1], ARGV[5], unpack(ARGV, 7, 6 + nack))
  redis.call('XDEL', KEYS[1], unpack(ARGV, 7, 6 + nack))
end
return out`;

// KEYS: record. ARGV: now, only failed (1/0). Moves a finished delivery back to pending for a
// manual retry. Returns the new manual-retry count, 0 when it is still in flight (or, with
// only-failed, did not fail), -1 when it does not exist, -2 when it is held by its route.
export const REQUEUE = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
if status == 'held' then return -2 end
if status == 'pending' or status == 'retrying' then return 0 end
if ARGV[2] == '1' and status ~= 'failed' then return 0 end
-- A new run: its retry schedule counts from the attempts made so far.
redis.call('HSET', KEYS[1], 'status', 'pending', 'updatedAt', ARGV[1], 'error', 'null', 'nextAttemptAt', 'null',
  'runStart', redis.call('HGET', KEYS[1], 'attemptCount') or '0')
return redis.call('HINCRBY', KEYS[1], 'manualRetries', 1)`;

// KEYS: record, attempts. ARGV: attempt JSON, status, updatedAt, nextAttemptAt JSON, error JSON,
// retentionS. One call instead of a seven-command MULTI on the hot path of every attempt.
// Attempts beyond the last 100 of one delivery are dropped (manual retries can add many).
export const RECORD_ATTEMPT = `
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -100, -1)
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updatedAt', ARGV[3], 'nextAttemptAt', ARGV[4], 'error', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'attemptCount', 1)
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 1`;

// KEYS: record, route states, held index. ARGV: routeId, now. A pending or retrying delivery
// whose route holds is marked held (kept in order in the held index). Answers the route's state
// ('deleted' when it is gone); only 'hold' changed anything. Atomic with the state, so a
// delivery is never held after its route was turned on and its held ones released.
export const HOLD = `
local state = redis.call('HGET', KEYS[2], ARGV[1]) or 'deleted'
if state ~= 'hold' then return state end
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'pending' and status ~= 'retrying' then return state end
redis.call('HSET', KEYS[1], 'status', 'held', 'updatedAt', ARGV[2], 'nextAttemptAt', 'null')
redis.call('ZADD', KEYS[3], 0, (redis.call('HGET', KEYS[1], 'order') or '') .. '|' .. redis.call('HGET', KEYS[1], 'id'))
redis.call('EXPIRE', KEYS[3], redis.call('TTL', KEYS[1]))
return state`;

// KEYS: held index. ARGV: record prefix, now, members. Takes the members off the index and
// moves those still held back to pending. Called after their jobs were queued: a job that runs
// first finds its delivery held on a route that is on, and sends it all the same.
export const RELEASE = `
for i = 3, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  local record = ARGV[1] .. string.match(ARGV[i], '|(.+)$')
  if redis.call('HGET', record, 'status') == 'held' then
    redis.call('HSET', record, 'status', 'pending', 'updatedAt', ARGV[2])
  end
end
return 1`;

// KEYS: held index. ARGV: record prefix, count, now, error JSON. Ends up to count held
// deliveries as failed with the given error; answers {members taken off the index, ended}.
export const DROP = `
local n = 0
local members = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
for _, member in ipairs(members) do
  redis.call('ZREM', KEYS[1], member)
  local record = ARGV[1] .. string.match(member, '|(.+)$')
  if redis.call('HGET', record, 'status') == 'held' then
    redis.call('HSET', record, 'status', 'failed', 'updatedAt', ARGV[3], 'error', ARGV[4])
    n = n + 1
  end
end
return {#members, n}`;
