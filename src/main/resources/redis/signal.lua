-- signal.lua: publishes a signal to one member of a document if, and only if, it is a member now.
-- KEYS[1] cp:{doc}:members  hash
-- ARGV[1] publish command   ARGV[2] channel cp:{doc}:events   ARGV[3] target member id   ARGV[4] event
-- Returns 1 when published, 0 when there is no such member.
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 0 then
  return 0
end
redis.call(ARGV[1], ARGV[2], ARGV[4])
return 1
