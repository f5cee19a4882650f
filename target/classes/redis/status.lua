-- status.lua: one user's online status.
-- KEYS[1] cp:user:{user}  hash   KEYS[2] cp:user:{user}:seen  string
-- Returns {online 1/0, lastSeen or false}.
return {redis.call('HLEN', KEYS[1]) > 0 and 1 or 0, redis.call('GET', KEYS[2])}
