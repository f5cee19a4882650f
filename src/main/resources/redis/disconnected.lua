-- disconnected.lua: counts one connection of a user fewer on a node; when it was the user's last one
-- anywhere, records lastSeen and announces the user offline.
-- KEYS[1] cp:user:{user}  hash   KEYS[2] cp:user:{user}:seen  string
-- ARGV[1] node name   ARGV[2] status channel   ARGV[3] user id   ARGV[4] now (epoch ms)   ARGV[5] lastSeen TTL (ms)
-- Returns the user's connections left on this node.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0 -- already forgotten (reaped as a dead node's): nothing to announce again
end
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  n = 0
end
if redis.call('HLEN', KEYS[1]) == 0 then
  -- lastSeen only moves forward, whatever the nodes' clocks say: watchers order a user's changes by it
  local now = string.format('%.0f', math.max(tonumber(ARGV[4]), (tonumber(redis.call('GET', KEYS[2])) or 0) + 1))
  redis.call('SET', KEYS[2], now, 'PX', ARGV[5])
  redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' 0 ' .. now)
end
return n
