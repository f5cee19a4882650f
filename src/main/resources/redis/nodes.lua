-- nodes.lua: gives node names an expiry a presence TTL past Redis's clock, and answers which names
-- are past theirs, by the same clock. In a script because TIME has no key: sent alone, a Redis
-- Cluster client may ask any master (or a replica) for it; here it is the clock of the master that
-- holds cp:nodes, whoever asks.
-- KEYS[1] cp:nodes  sorted set  node name -> expiry (epoch ms)
-- ARGV[1] presence TTL (ms)   ARGV[2] most names to answer   ARGV[3..] names to give the expiry
-- Returns the names whose expiry has passed (any node's, these included if so).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = string.format('%.0f', now + tonumber(ARGV[1]))
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[1], expiry, ARGV[i])
end
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now), 'LIMIT', 0, tonumber(ARGV[2]))
