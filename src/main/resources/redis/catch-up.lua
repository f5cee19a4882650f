-- catch-up.lua: the durable events a node missed after the last one it delivered, and whether the
-- log still holds all of them (a pub/sub gap longer than the history loses some for good).
-- KEYS[1] cp:{doc}:log  stream
-- ARGV[1] the last offset the node's readers have (a stream id), or - when they have none
-- ARGV[2] the history size (entries the log keeps), for a Redis before 7
-- Returns {whole, entries}: entries as XRANGE gives them, after ARGV[1]; whole is 1 when the offset
-- is still in the log, or when the log never lost an entry (it is gone, or was made anew after it
-- expired or Redis restarted empty: nothing after the offset was trimmed from it), else 0. An
-- offset gone from a log that lost entries counts as a hole whatever took them: trimming, or a
-- failover or restore that lost the log's tail (a resuming client would be told the same).
local after = ARGV[1]
if after == '-' then
  return {1, redis.call('XRANGE', KEYS[1], '-', '+')}
end
local entries = redis.call('XRANGE', KEYS[1], after, '+')
if #entries > 0 and entries[1][1] == after then
  table.remove(entries, 1)
  return {1, entries}
end
local whole = redis.call('EXISTS', KEYS[1]) == 0
if not whole then
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
if whole then return {1, entries} end
return {0, entries}
