-- leave.lua: removes a member, logs its presence/leave and publishes it, atomically. A member that is
-- already gone (left, or reaped by another node) yields nothing: each leave is announced once.
-- KEYS[1] cp:{doc}:members  hash   KEYS[2] cp:{doc}:expiry  zset   KEYS[3] cp:{doc}:log  stream
-- ARGV[1] publish command   ARGV[2] channel cp:{doc}:events   ARGV[3] member id
-- ARGV[4] history size   ARGV[5] history TTL (ms)   ARGV[6] frame prefix
-- Returns the leave's offset, or nil when the member was not there.
if redis.call('HDEL', KEYS[1], ARGV[3]) == 0 then
  return false
end
redis.call('ZREM', KEYS[2], ARGV[3])
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'p', ARGV[6], 'k', 'd', 'o', ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call(ARGV[1], ARGV[2], 'd ' .. id .. ' ' .. ARGV[3] .. ' -\n' .. ARGV[6] .. id .. '"}')
return id
