-- KEYS: total, bots, visitor-days, daily hits, daily uniques, then the days' HLLs.
-- ARGV: HLL key prefix, then the days (yyyymmdd). One slot, one round trip, on a Cluster too.
-- include: uniques.lua
local days = {unpack(ARGV, 2)}
local hits = redis.call('HMGET', KEYS[4], unpack(days))
local uniques = redis.call('HMGET', KEYS[5], unpack(days))
local hlls = {}
for i = 6, #KEYS do hlls[#hlls + 1] = KEYS[i] end
for i = 1, #days do
  if not uniques[i] then uniques[i] = redis.call('PFCOUNT', KEYS[5 + i]) end
end
local visitor_days = tonumber(redis.call('GET', KEYS[3]) or '0')
  + unsettled(KEYS[4], KEYS[5], ARGV[1])
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), visitor_days,
        hits, uniques, redis.call('PFCOUNT', unpack(hlls))}
