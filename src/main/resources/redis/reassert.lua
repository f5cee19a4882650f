-- reassert.lua: writes again members a node still holds whose records Redis no longer has (Redis
-- restarted empty, or the members were reaped while the node could not reach Redis) or holds under
-- a name the node has given up. A member that was never announced as gone comes back silently; one
-- whose leave was announced (tombstone in :reaped) is announced joining again, so that every
-- client's member list stays right. A record that is there is only given the node's new name.
-- KEYS[1] cp:{doc}:members  hash   KEYS[2] cp:{doc}:expiry  zset   KEYS[3] cp:{doc}:log  stream
-- KEYS[4] cp:{doc}:reaped   zset
-- ARGV[1] publish command   ARGV[2] channel   ARGV[3] presence TTL (ms, past Redis's clock)   ARGV[4] history size
-- ARGV[5] history TTL (ms)   ARGV[6] presence key TTL (ms)
-- ARGV[7..] triples: member id, stored member JSON, join frame prefix
-- Returns the number of members announced again.
local t = redis.call('TIME') -- Redis's clock: the nodes' clocks may disagree
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = string.format('%.0f', now + tonumber(ARGV[3]))
local announced = 0
for i = 7, #ARGV, 3 do
  local id = ARGV[i]
  redis.call('ZADD', KEYS[2], expiry, id)
  if redis.call('HSET', KEYS[1], id, ARGV[i + 1]) == 1 and redis.call('ZREM', KEYS[4], id) == 1 then
    local offset = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'p', ARGV[i + 2], 'k', 'd', 'o', id)
    redis.call('PEXPIRE', KEYS[3], ARGV[5])
    redis.call(ARGV[1], ARGV[2], 'd ' .. offset .. ' ' .. id .. ' -\n' .. ARGV[i + 2] .. offset .. '"}')
    announced = announced + 1
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return announced
