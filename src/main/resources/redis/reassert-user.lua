-- reassert-user.lua: puts back a node's count (at least 1) of open connections of a user, as the node
-- knows it: after Redis may have lost it (a resync), or after a write of the node's failed (so the
-- count may be off either way). A count of 0 is node-gone.lua's work (the node's entry goes).
-- KEYS[1] cp:user:{user}  hash   KEYS[2] cp:user:{user}:seen  string
-- ARGV[1] node name   ARGV[2] status channel   ARGV[3] user id   ARGV[4] open connections on the node
-- ARGV[5] '1' when Redis may have lost everything: a user it has offline is announced online only if
--         it had seen the user (so not after a restart that lost all); '0' after a failed write: always
local was_online = redis.call('HLEN', KEYS[1]) > 0
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
if not was_online and (ARGV[5] == '0' or redis.call('EXISTS', KEYS[2]) == 1) then
  redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' 1 ' .. (redis.call('GET', KEYS[2]) or '-'))
end
return 1
