-- node-gone.lua: forgets a node's connections of one user (a dead node's, or a live one's that
-- counts none there after a failed write); when they were the user's last ones anywhere, records
-- lastSeen and announces the user offline. Gated on HDEL, so concurrent reapers announce it once.
-- KEYS[1] cp:user:{user}  hash   KEYS[2] cp:user:{user}:seen  string
-- ARGV[1] node name   ARGV[2] status channel   ARGV[3] user id   ARGV[4] now (epoch ms)   ARGV[5] lastSeen TTL (ms)
-- ARGV[6] '1' when a live node writes its count of 0 after the write of it failed: the user's last
--         connection may have closed while Redis was away, and Redis may have lost the user meanwhile
--         (restarted empty). With no connection of the user left anywhere and no lastSeen (which its
--         going offline would have written), it is announced offline all the same: readers that saw it
--         online would otherwise never hear it go.
local removed = redis.call('HDEL', KEYS[1], ARGV[1]) == 1
if (removed or ARGV[6] == '1' and redis.call('EXISTS', KEYS[2]) == 0) and redis.call('HLEN', KEYS[1]) == 0 then
  -- lastSeen only moves forward (as in disconnected.lua)
  local now = string.format('%.0f', math.max(tonumber(ARGV[4]), (tonumber(redis.call('GET', KEYS[2])) or 0) + 1))
  redis.call('SET', KEYS[2], now, 'PX', ARGV[5])
  redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' 0 ' .. now)
end
return 1
