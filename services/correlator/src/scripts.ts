// Redis Lua scripts: the atomic per-observation step (occurrences + incident join/open + root cause) and the resolve
// step. Every replica runs them; Redis runs each atomically, so N replicas agree whatever the delivery order.

/** Shared helpers: the replay rule of @kec/model in Lua (decimal RVs compared as numbers, else count then time). */
const COMPARE = `
local function cmpdec(a, b)
  a = string.gsub(a, '^0+(%d)', '%1')
  b = string.gsub(b, '^0+(%d)', '%1')
  if #a ~= #b then return (#a < #b) and -1 or 1 end
  if a == b then return 0 end
  return (a < b) and -1 or 1
end
local function cmpobs(rv1, c1, t1, rv2, c2, t2)
  if string.match(rv1, '^%d+$') and string.match(rv2, '^%d+$') then return cmpdec(rv1, rv2) end
  if c1 ~= c2 then return (c1 < c2) and -1 or 1 end
  local n1 = (t1 == '' or t1 == nil)
  local n2 = (t2 == '' or t2 == nil)
  if n1 or n2 then
    if n1 == n2 then return 0 end
    return n1 and -1 or 1
  end
  local a, b = tonumber(t1), tonumber(t2)
  if a == b then return 0 end
  return (a < b) and -1 or 1
end
`;

/**
 * observe(KEYS = [occKey, indexKey1..N], ARGV = see CorrelatorState.observe).
 * Returns { delta, incidentId or '', fresh(1/0), replay(1/0), incident HGETALL flat or {}, affected members or {} }.
 */
export const OBSERVE_LUA = `${COMPARE}
local occ = KEYS[1]
local rv, cnt, ts, deleted = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4] == '1'
local occTtl = tonumber(ARGV[5])
local mode = ARGV[6]
local evMs, firstMs, windowMs = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local candidate, incTtl, prefix = ARGV[10], tonumber(ARGV[11]), ARGV[12]
local nkeys = tonumber(ARGV[13])
local base = 13 + nkeys
local rank, uid, reason, objName = tonumber(ARGV[base + 1]), ARGV[base + 2], ARGV[base + 3], ARGV[base + 4]
local why, sev, category, ns = ARGV[base + 5], tonumber(ARGV[base + 6]), ARGV[base + 7], ARGV[base + 8]
local maxAffected = tonumber(ARGV[base + 9])
local cluster = ARGV[base + 10]
local rcMicros, rcOrder, eventUid = tonumber(ARGV[base + 11]), ARGV[base + 12], ARGV[base + 13]

local function incidentOut(id)
  if id == nil or id == '' then return {} , {} end
  local ih = prefix .. 'inc:' .. id
  return redis.call('HGETALL', ih), redis.call('SMEMBERS', ih .. ':a')
end

-- 1. occurrences
local seen = redis.call('HGET', occ, 'r:' .. rv)
if seen then
  local id = redis.call('HGET', occ, 'i:' .. rv) or ''
  local h, a = incidentOut(id)
  return { tonumber(seen), id, 0, 1, h, a }
end
local delta = 0
local fresh = 0
local lrv = redis.call('HGET', occ, 'rv')
if not lrv then
  fresh = 1
  if not deleted then delta = cnt end
  redis.call('HSET', occ, 'rv', rv, 'c', cnt, 't', ts)
else
  local lc = tonumber(redis.call('HGET', occ, 'c'))
  local lt = redis.call('HGET', occ, 't')
  if cmpobs(rv, cnt, ts, lrv, lc, lt) > 0 then
    if not deleted then delta = math.max(0, cnt - lc) end
    redis.call('HSET', occ, 'rv', rv, 'c', math.max(cnt, lc), 't', ts)
  end
end
redis.call('HSET', occ, 'r:' .. rv, delta)
if redis.call('HLEN', occ) > 400 then
  for _, f in ipairs(redis.call('HKEYS', occ)) do
    if (string.sub(f, 1, 2) == 'r:' or string.sub(f, 1, 2) == 'i:') and f ~= 'r:' .. rv then redis.call('HDEL', occ, f) end
  end
end
redis.call('EXPIRE', occ, occTtl)

-- 2. incident: the uid's own incident while open, else the first open incident of the keys in order, else open one
local function usable(id, win)
  if not id then return false end
  win = win or windowMs
  local ih = prefix .. 'inc:' .. id
  local st = redis.call('HMGET', ih, 'state', 'first', 'last')
  if st[1] ~= 'open' then return false end
  local f, l = tonumber(st[2]), tonumber(st[3])
  return evMs <= l + win and evMs >= f - win
end
-- per key: its flag ('0' look up, '1' look up and register, '2' register only) and join window ('F:ms', default windowMs)
local flags, wins = {}, {}
for i = 1, nkeys do
  local f, w = string.match(ARGV[13 + i], '^(%d):?(%d*)$')
  flags[i] = f
  wins[i] = tonumber(w) or windowMs
end
local id = nil
local prev = redis.call('HGET', occ, 'inc')
if prev and usable(prev) then id = prev end
if mode == 'none' then id = nil end
if not id and mode ~= 'none' and not deleted then
  for i = 1, nkeys do
    -- an index key holds the recent incidents registered under it (newest first), so a late event still finds
    -- the incident of its own time after a newer one took the key; flag '2' = register only, not looked up
    if flags[i] ~= '2' then
      for _, cand in ipairs(redis.call('ZREVRANGE', KEYS[1 + i], 0, -1)) do
        if usable(cand, wins[i]) then id = cand break end
      end
    end
    if id then break end
  end
end
local created = 0
if not id and mode == 'open' and not deleted then
  id = candidate
  created = 1
  redis.call('HSET', prefix .. 'inc:' .. id, 'state', 'open', 'first', firstMs, 'last', evMs, 'ns', ns,
    'events', 0, 'occ', 0, 'sev', sev, 'version', 0, 'rcRank', -1, 'rcTs', 0, 'rcOrder', '', 'rcUid', '', 'opened', eventUid, 'cl', cluster)
end
if not id then
  redis.call('HSET', occ, 'i:' .. rv, '')
  return { delta, '', fresh, 0, {}, {} }
end
if deleted then
  redis.call('HSET', occ, 'i:' .. rv, id)
  local h0, a0 = incidentOut(id)
  return { delta, id, fresh, 0, h0, a0, 0 }
end
local ih = prefix .. 'inc:' .. id
if prev ~= id then redis.call('HINCRBY', ih, 'events', 1) end
redis.call('HINCRBY', ih, 'occ', delta)
local cur = redis.call('HMGET', ih, 'first', 'last', 'sev', 'rcRank', 'rcTs', 'rcOrder')
if firstMs < tonumber(cur[1]) then redis.call('HSET', ih, 'first', firstMs) end
if evMs > tonumber(cur[2]) then redis.call('HSET', ih, 'last', evMs) end
if sev > tonumber(cur[3]) then redis.call('HSET', ih, 'sev', sev) end
local rr, rt, ru = tonumber(cur[4]), tonumber(cur[5]), cur[6]
if rank > rr or (rank == rr and (rcMicros < rt or (rcMicros == rt and rcOrder < ru))) then
  redis.call('HSET', ih, 'rcRank', rank, 'rcTs', rcMicros, 'rcOrder', rcOrder, 'rcUid', eventUid, 'rcReason', reason, 'rcObj', objName,
    'rcWhy', why, 'rcCat', category)
end
if redis.call('SCARD', ih .. ':a') < maxAffected then redis.call('SADD', ih .. ':a', objName) end
redis.call('HINCRBY', ih, 'version', 1)
redis.call('EXPIRE', ih, incTtl)
redis.call('EXPIRE', ih .. ':a', incTtl)
redis.call('ZADD', prefix .. 'open', tonumber(redis.call('HGET', ih, 'last')), id)
-- register this event's own keys (each keeps its 8 most recent incidents)
local ifirst = tonumber(redis.call('HGET', ih, 'first'))
for i = 1, nkeys do
  if flags[i] ~= '0' then
    local k = KEYS[1 + i]
    redis.call('ZADD', k, ifirst, id)
    redis.call('ZREMRANGEBYRANK', k, 0, -9)
    redis.call('EXPIRE', k, incTtl)
  end
end
redis.call('HSET', occ, 'i:' .. rv, id, 'inc', id)
local h, a = incidentOut(id)
return { delta, id, fresh, 0, h, a, created }
`;

/**
 * resolve(KEYS = [openZset, unpublishedZset], ARGV = [prefix, id, cutoffMs]): resolves when still quiet and moves the id
 * from the open set to the unpublished set (until its resolved version has a publish ack); returns HGETALL + affected
 * or {}.
 */
export const RESOLVE_LUA = `
local id, cutoff, prefix = ARGV[2], tonumber(ARGV[3]), ARGV[1]
local score = redis.call('ZSCORE', KEYS[1], id)
if not score or tonumber(score) > cutoff then return {} end
redis.call('ZREM', KEYS[1], id)
local ih = prefix .. 'inc:' .. id
if redis.call('HGET', ih, 'state') ~= 'open' then return {} end
redis.call('HSET', ih, 'state', 'resolved')
redis.call('HINCRBY', ih, 'version', 1)
redis.call('ZADD', KEYS[2], score, id)
return { redis.call('HGETALL', ih), redis.call('SMEMBERS', ih .. ':a') }
`;

/**
 * KEYS: minute buckets; ARGV[1] = n, ARGV[2] = TTL in seconds. Adds n to every bucket (the call that creates a
 * bucket sets its TTL) and returns their values; with n = 0 it only reads them. One round of one command per
 * event where INCRBY + EXPIRE per bucket were four.
 */
export const RATE_LUA = `
local n = tonumber(ARGV[1])
local out = {}
for i, k in ipairs(KEYS) do
  if n > 0 then
    local v = redis.call('INCRBY', k, n)
    if v == n then redis.call('EXPIRE', k, ARGV[2]) end
    out[i] = v
  else
    out[i] = tonumber(redis.call('GET', k) or '0')
  end
end
return out
`;

/**
 * One script call for the observations of a turn (CorrelatorState batches every observe() issued in one turn).
 * ARGV[1] = n, ARGV[2 .. 2n+1] = (number of keys, number of args) per observation, then every observation's args;
 * KEYS = every observation's keys. Runs OBSERVE_LUA for each in order, as n calls would, and returns its n replies;
 * an incident snapshot (HGETALL, members) is kept only in the last reply that names the incident, the earlier ones
 * get 0 in its place: the newest version supersedes them, and the members are the largest part of a reply.
 */
export const OBSERVE_BATCH_LUA = `
local function observe(KEYS, ARGV)
${OBSERVE_LUA}
end
local n = tonumber(ARGV[1])
local ki, ai = 1, 2 * n + 2
local out = {}
for e = 1, n do
  local nk, na = tonumber(ARGV[2 * e]), tonumber(ARGV[2 * e + 1])
  local k, a = {}, {}
  for j = 1, nk do k[j] = KEYS[ki + j - 1] end
  for j = 1, na do a[j] = ARGV[ai + j - 1] end
  ki, ai = ki + nk, ai + na
  out[e] = observe(k, a)
end
local newest = {}
for e = n, 1, -1 do
  local id = out[e][2]
  if id ~= '' then
    if newest[id] then out[e][5], out[e][6] = 0, 0 else newest[id] = true end
  end
end
return out
`;

/**
 * RATE_LUA for the rate updates of a turn: ARGV[1] = n, ARGV[2 .. 3n+1] = (number of keys, n, TTL) per update;
 * KEYS = every update's buckets. Returns the n replies in order.
 */
export const RATE_BATCH_LUA = `
local function rate(KEYS, ARGV)
${RATE_LUA}
end
local n = tonumber(ARGV[1])
local ki = 1
local out = {}
for e = 1, n do
  local nk = tonumber(ARGV[3 * e - 1])
  local k = {}
  for j = 1, nk do k[j] = KEYS[ki + j - 1] end
  ki = ki + nk
  out[e] = rate(k, { ARGV[3 * e], ARGV[3 * e + 1] })
end
return out
`;

/**
 * Claims of a turn: KEYS[i] is set to owner ARGV[2i-1] with TTL ARGV[2i] seconds unless it exists; reply i is 1 when
 * the owner holds it (set now, or set before by the same owner: a redelivery), else 0.
 */
export const CLAIM_BATCH_LUA = `
local out = {}
for i = 1, #KEYS do
  local owner = ARGV[2 * i - 1]
  if redis.call('SET', KEYS[i], owner, 'EX', ARGV[2 * i], 'NX') then
    out[i] = 1
  else
    out[i] = (redis.call('GET', KEYS[i]) == owner) and 1 or 0
  end
end
return out
`;
