-- replay.lua: the durable events after an offset, if the log still holds that offset.
-- KEYS[1] cp:{doc}:log  stream
-- ARGV[1] since (a stream id the server issued, or 0-0 for "before the first event")
-- ARGV[2] until (a stream id, exclusive) or + for the end
-- Returns {1, last offset, {frame, ...}} when it can resume, else {0, last offset, {}}.
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last_id = '0-0'
if #last > 0 then last_id = last[1][1] end
local since = ARGV[1]
local held
if since == '0-0' then
  -- resumable from the very beginning only while nothing was ever trimmed
  local ok, info = pcall(redis.call, 'XINFO', 'STREAM', KEYS[1])
  held = #last == 0
  if ok and not held then
    for i = 1, #info, 2 do
      if info[i] == 'entries-added' then held = tonumber(info[i + 1]) == redis.call('XLEN', KEYS[1]) end
    end
  end
else
  held = #redis.call('XRANGE', KEYS[1], since, since) > 0
end
if not held then
  return {0, last_id, {}}
end
local frames = {}
local upto = ARGV[2]
if upto ~= '+' then upto = '(' .. upto end
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '(' .. since, upto)) do
  frames[#frames + 1] = e[2][2] .. e[1] .. '"}'
end
return {1, last_id, frames}
