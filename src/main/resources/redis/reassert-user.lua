-- reassert-user.lua: puts back a node's count of open connections of a user after Redis lost it; the
-- user is announced online again only if Redis had it offline everywhere.
-- KEYS[1] cp:user:{user}  hash   KEYS[2] cp:user:{user}:seen  string
-- ARGV[1] node id   ARGV[2] status channel   ARGV[3] user id   ARGV[4] open connections on the node
local was_online = redis.call('HLEN', KEYS[1]) > 0
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
if not was_online and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' 1 ' .. (redis.call('GET', KEYS[2]) or '-'))
end
return 1
