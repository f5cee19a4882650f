-- node-docs.lua: the documents a node serves, which a node reaping it after its death goes through.
-- With ARGV[2] = 'add' (a document's first local member or reader): adds ARGV[3], before its join.
-- With ARGV[2] = 'replace' (the heartbeat): the set becomes ARGV[3..], so documents the node no
-- longer serves drop out, instead of the set growing with every document it ever served.
-- KEYS[1] cp:node:{node}:docs  set  document ids
-- ARGV[1] key TTL (ms; renewed by each heartbeat)   ARGV[2] 'add' or 'replace'   ARGV[3..] document ids
if ARGV[2] == 'replace' then
  redis.call('DEL', KEYS[1])
end
if #ARGV > 2 then
  redis.call('SADD', KEYS[1], unpack(ARGV, 3))
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return #ARGV - 2
