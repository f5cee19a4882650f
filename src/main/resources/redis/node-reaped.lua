-- node-reaped.lua: takes a reaped node name off cp:nodes, unless its score changed while it was
-- being reaped. A change means something wrote under the name after the reaper read it: its node
-- handed it back (score 0) or put it back at its switch (a future expiry), and may have written
-- under it after the reaper's last read of its sets. Left in cp:nodes, it is reaped again.
-- KEYS[1] cp:nodes  sorted set  node name -> expiry (epoch ms, Redis's clock)
-- ARGV[1] the node name   ARGV[2] its score, as read before the reaping began
-- Returns 1 if the name was taken off, 0 if it stays.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
