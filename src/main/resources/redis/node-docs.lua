-- node-docs.lua: the documents a node serves, which a node reaping it after its death goes through.
-- Each is scored with when the node last said it serves it. 'add' (a document's first local member
-- or reader, before its join) scores one; the heartbeat scores all it serves and drops those scored
-- before it began, so documents the node stopped serving go, and the set does not grow with every
-- document the node ever served. One added while a heartbeat was under way scores after its start,
-- and stays.
-- KEYS[1] cp:node:{node}:docs  sorted set  document id -> when last said served (node's clock, ms)
-- ARGV[1] key TTL (ms; renewed by each heartbeat)   ARGV[2] now (ms)
-- ARGV[3] drop those scored before this (ms), or '-' to drop none   ARGV[4..] document ids
if redis.call('TYPE', KEYS[1]).ok == 'set' then
  redis.call('DEL', KEYS[1]) -- written by a version that kept a plain set; the heartbeat rewrites it
end
for i = 4, #ARGV do
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
end
if ARGV[3] ~= '-' then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
end
if #ARGV > 3 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return #ARGV - 3
