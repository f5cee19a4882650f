-- join.lua: adds a member to a document, logs its presence/join and publishes it, atomically, so that
-- the join's offset is the one every node sees it at.
-- KEYS[1] cp:{doc}:members  hash    member id -> stored member JSON
-- KEYS[2] cp:{doc}:expiry   zset    member id -> expiry (epoch ms by Redis's clock), renewed by the member's node
-- KEYS[3] cp:{doc}:log      stream  durable events: p = frame up to its offset value, k = kind, o = origin
-- ARGV[1] publish command (PUBLISH, or SPUBLISH on Redis Cluster)   ARGV[2] channel cp:{doc}:events
-- ARGV[3] member id   ARGV[4] stored member JSON   ARGV[5] presence TTL (ms)   ARGV[6] most members
-- ARGV[7] history size   ARGV[8] history TTL (ms)   ARGV[9] frame prefix   ARGV[10] presence key TTL (ms)
-- Returns {offset, {member JSON, ...}} or the error DOC_FULL.
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[6]) then
  return redis.error_reply('DOC_FULL')
end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
local t = redis.call('TIME') -- Redis's clock: the nodes' clocks may disagree
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], string.format('%.0f', now + tonumber(ARGV[5])), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[10])
redis.call('PEXPIRE', KEYS[2], ARGV[10])
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 'p', ARGV[9], 'k', 'd', 'o', ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[8])
redis.call(ARGV[1], ARGV[2], 'd ' .. id .. ' ' .. ARGV[3] .. ' -\n' .. ARGV[9] .. id .. '"}')
return {id, redis.call('HVALS', KEYS[1])}
