-- renew.lua: keeps a node's members of one document alive for another presence TTL, and the
-- document's history for another history TTL (it is kept while the document has members, and for
-- the history TTL after the last one leaves): one call per document per renewal, whatever the
-- number of members.
-- KEYS[1] cp:{doc}:members  hash   KEYS[2] cp:{doc}:expiry  zset   KEYS[3] cp:{doc}:log  stream
-- ARGV[1] presence TTL (ms): the expiry is that far past Redis's clock   ARGV[2] presence key TTL (ms)
-- ARGV[3] history TTL (ms)
-- ARGV[4] the node's name now (its records end with it)   ARGV[5..] member ids
-- Returns the ids whose record is missing (Redis lost it, or it was reaped while this node could not
-- renew it) or names another of the node's names (it took a new one since). The node writes them
-- again with reassert.lua.
local t = redis.call('TIME') -- Redis's clock: the nodes' clocks may disagree
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = string.format('%.0f', now + tonumber(ARGV[1]))
local mine = ',"node":"' .. ARGV[4] .. '"}'
local gone = {}
for i = 5, #ARGV do
  local json = redis.call('HGET', KEYS[1], ARGV[i])
  if json and string.sub(json, -#mine) == mine then
    redis.call('ZADD', KEYS[2], expiry, ARGV[i])
  else
    gone[#gone + 1] = ARGV[i]
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3]) -- a no-op while the document has no history
return gone
