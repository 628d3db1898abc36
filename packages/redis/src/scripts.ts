/**
 * The Lua scripts of the shared rate limiter. Each runs atomically on Redis's clock (`TIME`), so the
 * processes' clocks never matter. Keys of one API share a hash tag, so they live in one cluster slot.
 */

// Milliseconds with the microseconds kept: rounded down to the millisecond, a slot released late in
// one millisecond would free up to a millisecond before its window had passed.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
`;

/**
 * Grants process `pid` up to `want` slots, fairly: the processes waiting now (those that asked within
 * `staleMs` and are not yet served) share the free slots, each ask taking at most its equal part, so a
 * process that asks more often wins nothing by it. A slot is held until `now + leaseMs` (a call in
 * flight; it comes back by itself if its process dies) until released. Returns { granted, last slot
 * number, ms until the earliest slot frees }.
 *
 * KEYS: slots (zset member → held until), waiting (zset pid → last asked), seq
 * ARGV: pid, want, limit, leaseMs, staleMs
 */
export const ACQUIRE = `${NOW}
local pid, want, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local leaseMs, staleMs = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[2], now, pid)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - staleMs)
local free = limit - redis.call('ZCARD', KEYS[1])
local share = math.ceil(free / redis.call('ZCARD', KEYS[2]))
local grant = math.max(0, math.min(want, free, share))
local last = 0
if grant > 0 then
  last = redis.call('INCRBY', KEYS[3], grant)
  for i = last - grant + 1, last do
    redis.call('ZADD', KEYS[1], now + leaseMs, pid .. ':' .. i)
  end
end
if grant == want then redis.call('ZREM', KEYS[2], pid) end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], leaseMs + staleMs) end
local wait = 0
if grant < want then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = first[2] and (tonumber(first[2]) - now) or 1
end
return { grant, last, wait }
`;

/**
 * `ACQUIRE` over several budgets at once, all or nothing: each call granted takes `units` slots of
 * every budget, and a call is granted only while every budget has its units free. Up to `want`
 * calls, at most the process's equal share of what the scarcest budget allows. Slot members are
 * `pid:n:u` (call number `n`, unit `u`). Returns { granted, last call number, ms until the earliest
 * slot of a short budget frees }. Every key carries one hash tag (the app), so they share a slot.
 *
 * KEYS: waiting (zset pid → last asked), seq, then each budget's slots
 * ARGV: pid, want, leaseMs, staleMs, then each budget's units and limit
 */
export const ACQUIRE_ALL = `${NOW}
local pid, want = ARGV[1], tonumber(ARGV[2])
local leaseMs, staleMs = tonumber(ARGV[3]), tonumber(ARGV[4])
local budgets = #KEYS - 2
redis.call('ZADD', KEYS[1], now, pid)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - staleMs)
local possible = want
local short = {}
for b = 1, budgets do
  local slots = KEYS[b + 2]
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
  local units, limit = tonumber(ARGV[3 + 2 * b]), tonumber(ARGV[4 + 2 * b])
  local fit = math.floor((limit - redis.call('ZCARD', slots)) / units)
  if fit < want then table.insert(short, slots) end
  possible = math.min(possible, fit)
end
local share = math.ceil(math.max(0, possible) / redis.call('ZCARD', KEYS[1]))
local grant = math.max(0, math.min(want, possible, share))
local last = 0
if grant > 0 then
  last = redis.call('INCRBY', KEYS[2], grant)
  for b = 1, budgets do
    local units = tonumber(ARGV[3 + 2 * b])
    for n = last - grant + 1, last do
      for u = 1, units do
        redis.call('ZADD', KEYS[b + 2], now + leaseMs, pid .. ':' .. n .. ':' .. u)
      end
    end
  end
end
if grant == want then redis.call('ZREM', KEYS[1], pid) end
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], leaseMs + staleMs) end
local wait = 0
if grant < want then
  wait = 1
  for _, slots in ipairs(short) do
    local first = redis.call('ZRANGE', slots, 0, 0, 'WITHSCORES')
    if first[2] then wait = math.max(wait, tonumber(first[2]) - now) end
  end
end
return { grant, last, wait }
`;

/**
 * A call granted by `ACQUIRE_ALL` has completed: its slots in each budget are held that budget's
 * `holdMs` more. KEYS: each budget's slots. ARGV: call member (`pid:n`), then each budget's units and holdMs
 */
export const RELEASE_ALL = `${NOW}
for b = 1, #KEYS do
  local freeAt = now + tonumber(ARGV[2 * b + 1])
  for u = 1, tonumber(ARGV[2 * b]) do
    redis.call('ZADD', KEYS[b], 'XX', freeAt, ARGV[1] .. ':' .. u)
  end
end
return 1
`;

/**
 * A call has completed: its slot is held `windowMs` more, from now, and then frees itself.
 * KEYS: slots. ARGV: member, windowMs
 */
export const RELEASE = `${NOW}
return redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
`;

/**
 * Process `pid` is alive; returns how many are (heard from within `staleMs`).
 * KEYS: processes (zset pid → last heard). ARGV: pid, staleMs
 */
export const HEARTBEAT = `${NOW}
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
return redis.call('ZCARD', KEYS[1])
`;

/**
 * Records open message `id` as owned by `owner` until `now + leaseMs`.
 * KEYS: leases (zset id → until), entries (hash id → JSON), owners (hash id → owner)
 * ARGV: id, entry JSON, owner, leaseMs
 */
export const RECORD = `${NOW}
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
`;

/**
 * Extends `owner`'s leases on the messages given, those it still owns.
 * KEYS: leases, owners. ARGV: owner, leaseMs, id…
 */
export const RENEW = `${NOW}
local expires = now + tonumber(ARGV[2])
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then redis.call('ZADD', KEYS[1], 'XX', expires, ARGV[i]) end
end
return 1
`;

/**
 * Takes over up to `max` messages whose lease has run out: each becomes `owner`'s for `leaseMs`, so
 * exactly one process closes it. Returns id, entry JSON and attempt count for each.
 * KEYS: leases, entries, owners, attempts (hash id → times claimed). ARGV: owner, leaseMs, max
 */
export const CLAIM = `${NOW}
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
  redis.call('HSET', KEYS[3], id, ARGV[1])
  local tries = redis.call('HINCRBY', KEYS[4], id, 1)
  table.insert(out, id)
  table.insert(out, redis.call('HGET', KEYS[2], id) or '')
  table.insert(out, tries)
end
return out
`;

/**
 * Replica `id` is alive; forgets replicas not heard from within `staleMs`; returns the live ones.
 * KEYS: replicas (zset id → last heard). ARGV: id, staleMs
 */
export const REPLICAS = `${NOW}
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;

/**
 * Extends the lease on a shard if `id` still holds it; returns 1 if it does.
 * KEYS: the shard's owner key. ARGV: id, leaseMs
 */
export const RENEW_SHARD = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
`;

/** Lets go of a shard if `id` holds it. KEYS: the shard's owner key. ARGV: id */
export const RELEASE_SHARD = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Counts `n` calls this process made outside the shared budget (while Redis was away) as holding
 * slots for `holdMs` more, so that the window they fall in is not spent twice.
 * KEYS: slots, seq. ARGV: pid, n, holdMs
 */
export const OCCUPY = `${NOW}
local n = tonumber(ARGV[2])
if n <= 0 then return 0 end
local last = redis.call('INCRBY', KEYS[2], n)
for i = last - n + 1, last do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1] .. ':' .. i)
end
return n
`;
