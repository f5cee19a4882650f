-- snapshot.lua: a document's members and the offset of its last durable event, read together.
-- KEYS[1] cp:{doc}:members  hash   KEYS[2] cp:{doc}:log  stream
-- Returns {last offset or 0-0, {member JSON, ...}}.
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local last_id = '0-0'
if #last > 0 then last_id = last[1][1] end
return {last_id, redis.call('HVALS', KEYS[1])}
