-- connected.lua: counts one more open connection of a user on a node; announces the user online when
-- it is the user's first connection anywhere.
-- KEYS[1] cp:user:{user}  hash  node name -> open connections of the user on that node
-- KEYS[2] cp:user:{user}:seen  string  last time the user went offline (epoch ms)
-- ARGV[1] node name   ARGV[2] status channel   ARGV[3] user id
if redis.call('HINCRBY', KEYS[1], ARGV[1], 1) == 1 and redis.call('HLEN', KEYS[1]) == 1 then
  redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' 1 ' .. (redis.call('GET', KEYS[2]) or '-'))
end
return 1
