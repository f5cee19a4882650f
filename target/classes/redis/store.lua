-- store.lua: replaces a member's stored record (new state or typing flag) and publishes the ephemeral
-- event, atomically; nothing happens for a member that is no longer there.
-- KEYS[1] cp:{doc}:members  hash
-- ARGV[1] publish command   ARGV[2] channel cp:{doc}:events   ARGV[3] member id
-- ARGV[4] stored member JSON   ARGV[5] event as published (header line + frame)
-- Returns 1 when stored, 0 when the member was gone.
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call(ARGV[1], ARGV[2], ARGV[5])
return 1
