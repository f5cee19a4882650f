-- reassert-user.lua: sets a node's count of open connections of a user to what the node knows: after
-- Redis may have lost it (a resync), or after a write of the node's failed (so the count may be off
-- either way). With a count of 0 the node's entry goes, and if it was the user's last one anywhere the
-- user goes offline, as in disconnected.lua.
-- KEYS[1] cp:user:{user}  hash   KEYS[2] cp:user:{user}:seen  string
-- ARGV[1] node id   ARGV[2] status channel   ARGV[3] user id   ARGV[4] open connections on the node
-- ARGV[5] now (epoch ms)   ARGV[6] lastSeen TTL (ms)
-- ARGV[7] '1' when Redis may have lost everything: a user it has offline is announced online only if
--         it had seen the user (so not after a restart that lost all); '0' after a failed write: always
if ARGV[4] == '0' then
  if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 and redis.call('HLEN', KEYS[1]) == 0 then
    local now = string.format('%.0f', math.max(tonumber(ARGV[5]), (tonumber(redis.call('GET', KEYS[2])) or 0) + 1))
    redis.call('SET', KEYS[2], now, 'PX', ARGV[6])
    redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' 0 ' .. now)
  end
  return 0
end
local was_online = redis.call('HLEN', KEYS[1]) > 0
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
if not was_online and (ARGV[7] == '0' or redis.call('EXISTS', KEYS[2]) == 1) then
  redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' 1 ' .. (redis.call('GET', KEYS[2]) or '-'))
end
return 1
