-- catch-up.lua: the durable events a node missed, and whether the log still holds all of them (a
-- pub/sub gap longer than the history loses some for good).
-- KEYS[1] cp:{doc}:log  stream
-- ARGV[1] the offset the node's readers are known to have (a stream id), or - when none is known
-- ARGV[2] the history size (entries the log keeps), for a Redis before 7
-- ARGV[3] 1: read every entry the log holds (readers still opening may need older ones); 0: only those after ARGV[1]
-- Returns {whole, entries}: entries as XRANGE gives them; whole is 0 when ARGV[1] is gone from a log
-- that lost entries (trimmed, or a failover's copy of a log that had been: events after the offset
-- may be gone), else 1: the offset is still there, or the log never lost an entry (it is gone, or
-- was made anew after it expired or Redis restarted empty), so nothing after the offset was taken.
local checked = ARGV[1]
local whole = true
if checked ~= '-' and #redis.call('XRANGE', KEYS[1], checked, checked) == 0
    and redis.call('EXISTS', KEYS[1]) == 1 then
  -- Redis 7 counts every entry ever added; before it, a log shorter than the history was never trimmed
  local length = redis.call('XLEN', KEYS[1])
  local added = nil
  local ok, info = pcall(redis.call, 'XINFO', 'STREAM', KEYS[1])
  if ok then
    for i = 1, #info, 2 do
      if info[i] == 'entries-added' then added = tonumber(info[i + 1]) end
    end
  end
  if added then whole = added == length else whole = length < tonumber(ARGV[2]) end
end
local entries
if checked == '-' or ARGV[3] == '1' then
  entries = redis.call('XRANGE', KEYS[1], '-', '+')
else
  entries = redis.call('XRANGE', KEYS[1], '(' .. checked, '+')
end
if whole then return {1, entries} end
return {0, entries}
