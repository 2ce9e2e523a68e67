-- KEYS: total, bots, visitor-days, daily hits, daily uniques, then the days' HLLs.
-- ARGV: HLL key prefix, the period's first and last index among the days (1-based: the days
-- before the first are the previous period's, those after the last are today only, read for
-- its figures), then the days (yyyymmdd). One slot, one round trip, on a Cluster too.
-- Answers the figures, each day's hits and uniques, the period's distinct visitors and the
-- previous period's (0 without one).
-- include: uniques.lua
local first, last = tonumber(ARGV[2]), tonumber(ARGV[3])
local days = {unpack(ARGV, 4)}
local hits = redis.call('HMGET', KEYS[4], unpack(days))
local uniques = redis.call('HMGET', KEYS[5], unpack(days))
for i = 1, #days do
  if not uniques[i] then uniques[i] = redis.call('PFCOUNT', KEYS[5 + i]) end
end
local function distinct(from, to)
  if to < from then return 0 end
  local hlls = {}
  for i = from, to do hlls[#hlls + 1] = KEYS[5 + i] end
  return redis.call('PFCOUNT', unpack(hlls))
end
local visitor_days = tonumber(redis.call('GET', KEYS[3]) or '0')
  + unsettled(KEYS[4], KEYS[5], ARGV[1])
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), visitor_days,
        hits, uniques, distinct(first, last), distinct(1, first - 1)}
