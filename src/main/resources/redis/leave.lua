-- leave.lua: removes a member, logs its presence/leave and publishes it, atomically. A member that is
-- already gone (left, or reaped by another node) yields nothing: each leave is announced once.
-- Tried again (ARGV[7] = 1) for a leave its node could not record when it happened (Redis did not
-- answer), once Redis answers: then a member that is gone is still announced unless its leave was
-- announced meanwhile: reaped by another node (as a timeout: marked in the reaped set for a while,
-- and a leave in the log), or the first try ran and only its answer was lost (its leave in the
-- log). Otherwise Redis lost the member (it restarted empty) without anyone being told it left, and
-- the leave is logged and published all the same, so that no reader keeps it for good.
-- KEYS[1] cp:{doc}:members  hash   KEYS[2] cp:{doc}:expiry  zset   KEYS[3] cp:{doc}:log  stream
-- KEYS[4] cp:{doc}:reaped   zset
-- ARGV[1] publish command   ARGV[2] channel cp:{doc}:events   ARGV[3] member id
-- ARGV[4] history size   ARGV[5] history TTL (ms)   ARGV[6] frame prefix (a retry's: the first try's)
-- ARGV[7] 1 when the leave is tried again, else 0
-- Returns the leave's offset, or nil when the member was not there (or, tried again, was announced).
if redis.call('HDEL', KEYS[1], ARGV[3]) == 0 then
  if ARGV[7] ~= '1' or redis.call('ZSCORE', KEYS[4], ARGV[3]) then
    return false
  end
  -- the member's newest event in the log: only its leave can follow its last event. A leave's frame
  -- starts as this one's does up to its event, whoever wrote it (this node, a reaper: any reason)
  local start = string.sub(ARGV[6], 1, (string.find(ARGV[6], ',"member":', 1, true) or 0) - 1)
  for _, entry in ipairs(redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', ARGV[4])) do
    local fields = entry[2]
    local frame, origin
    for i = 1, #fields, 2 do
      if fields[i] == 'p' then frame = fields[i + 1] elseif fields[i] == 'o' then origin = fields[i + 1] end
    end
    if origin == ARGV[3] then
      if #start > 0 and string.sub(frame, 1, #start) == start then
        return false
      end
      break
    end
  end
end
redis.call('ZREM', KEYS[2], ARGV[3])
local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'p', ARGV[6], 'k', 'd', 'o', ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call(ARGV[1], ARGV[2], 'd ' .. id .. ' ' .. ARGV[3] .. ' -\n' .. ARGV[6] .. id .. '"}')
return id
