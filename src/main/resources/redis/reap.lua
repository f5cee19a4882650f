-- reap.lua: removes the members of a document whose node stopped renewing them (expired), or whose
-- node is known dead, and announces each one's presence/leave with reason timeout. Atomic, and gated
-- on HDEL: when several nodes reap the same document at once, each member leaves exactly once.
-- KEYS[1] cp:{doc}:members  hash   KEYS[2] cp:{doc}:expiry  zset   KEYS[3] cp:{doc}:log  stream
-- KEYS[4] cp:{doc}:reaped   zset   reaped member id -> when (a node that comes back re-announces them)
-- ARGV[1] publish command   ARGV[2] channel cp:{doc}:events   ARGV[3] doc id   ARGV[4] history size
-- ARGV[5] history TTL (ms)   ARGV[6] dead node's name, or - for none   ARGV[7] presence key TTL (ms)
-- Expiries are judged by Redis's clock (join.lua, renew.lua and reassert.lua write them by it).
-- Returns the number of members reaped.
local t = redis.call('TIME') -- Redis's clock: the nodes' clocks may disagree
local now = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local victims = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
if ARGV[6] ~= '-' then
  -- the node's name ends each of its records (a member's state could hold the same text elsewhere)
  local ending = ',"node":"' .. ARGV[6] .. '"}'
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if string.sub(all[i + 1], -#ending) == ending then victims[#victims + 1] = all[i] end
  end
end
local reaped = 0
for _, id in ipairs(victims) do
  local json = redis.call('HGET', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  if json and redis.call('HDEL', KEYS[1], id) == 1 then
    -- the stored record ends with the internal node field: clients get the public member object
    local member = string.gsub(json, ',"node":"[^"]*"}$', '}')
    local prefix = '{"type":"presence","doc":"' .. ARGV[3] .. '","event":"leave","member":' .. member
      .. ',"reason":"timeout","offset":"'
    local offset = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'p', prefix, 'k', 'd', 'o', id)
    redis.call(ARGV[1], ARGV[2], 'd ' .. offset .. ' ' .. id .. ' -\n' .. prefix .. offset .. '"}')
    redis.call('ZADD', KEYS[4], now, id)
    reaped = reaped + 1
  end
end
if reaped > 0 then
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', string.format('%.0f', tonumber(now) - tonumber(ARGV[7])))
  redis.call('PEXPIRE', KEYS[4], ARGV[7])
end
return reaped
