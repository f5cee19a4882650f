-- broadcast.lua: appends a broadcast to a document's log and publishes it with its offset, atomically.
-- KEYS[1] cp:{doc}:log  stream
-- ARGV[1] publish command   ARGV[2] channel cp:{doc}:events   ARGV[3] event kind (d: to others, a: to all)
-- ARGV[4] origin member id or -   ARGV[5] history size   ARGV[6] history TTL (ms)   ARGV[7] frame prefix
-- Returns the offset.
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*', 'p', ARGV[7], 'k', ARGV[3], 'o', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call(ARGV[1], ARGV[2], ARGV[3] .. ' ' .. id .. ' ' .. ARGV[4] .. ' -\n' .. ARGV[7] .. id .. '"}')
return id
