-- reap.lua: removes the members of a document whose node stopped renewing them (expired), or whose
-- node is known dead, and announces each one's presence/leave with reason timeout. Atomic, and gated
-- on HDEL: when several nodes reap the same document at once, each member leaves exactly once.
-- KEYS[1] cp:{doc}:members  hash   KEYS[2] cp:{doc}:expiry  zset   KEYS[3] cp:{doc}:log  stream
-- KEYS[4] cp:{doc}:reaped   zset   reaped member id -> when (a node that comes back re-announces them)
-- ARGV[1] publish command   ARGV[2] channel cp:{doc}:events   ARGV[3] now (epoch ms)   ARGV[4] doc id
-- ARGV[5] history size   ARGV[6] history TTL (ms)   ARGV[7] dead node's name, or - for none
-- ARGV[8] presence key TTL (ms)
-- Returns the number of members reaped.
local victims = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
if ARGV[7] ~= '-' then
  -- the node's name ends each of its records (a member's state could hold the same text elsewhere)
  local ending = ',"node":"' .. ARGV[7] .. '"}'
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
    local prefix = '{"type":"presence","doc":"' .. ARGV[4] .. '","event":"leave","member":' .. member
      .. ',"reason":"timeout","offset":"'
    local offset = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'p', prefix, 'k', 'd', 'o', id)
    redis.call(ARGV[1], ARGV[2], 'd ' .. offset .. ' ' .. id .. ' -\n' .. prefix .. offset .. '"}')
    redis.call('ZADD', KEYS[4], ARGV[3], id)
    reaped = reaped + 1
  end
end
if reaped > 0 then
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[8]))
  redis.call('PEXPIRE', KEYS[4], ARGV[8])
end
return reaped
