-- node-gone.lua: forgets a dead node's connections of one user; when they were the user's last ones
-- anywhere, records lastSeen and announces the user offline. Gated on HDEL, so concurrent reapers
-- announce it once.
-- KEYS[1] cp:user:{user}  hash   KEYS[2] cp:user:{user}:seen  string
-- ARGV[1] dead node id   ARGV[2] status channel   ARGV[3] user id   ARGV[4] now (epoch ms)   ARGV[5] lastSeen TTL (ms)
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 and redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
  redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' 0 ' .. ARGV[4])
end
return 1
