-- Shared by the scripts whose first lines include "-- include: dimensions.lua": a site's
-- dimensions (docs/DIMENSIONS.md), daily aggregates, never a record per visitor.
--
-- Per day one hash, <site>x:<day>: 'h|<dimension>|<value>' its hits; '#|<dimension>' its
-- distinct values, at most the cap a day (past it, a new value counts as '(other)'); once the
-- day is settled, 'v|<dimension>|<value>' its visitors and 'settled'. Until then a value's
-- visitors are a HyperLogLog, <site>xu:<day>:<dimension>|<value>, counted by readers. Both
-- expire after the retention; settling (at the first page view of a later day) counts each
-- HyperLogLog into the hash and deletes it. <site> is the site's key prefix: one hash tag.

-- Settle a day: each value's visitors counted into the day's hash; its HyperLogLogs go.
local function settle_dimensions(site, day)
  local agg = site .. 'x:' .. day
  if redis.call('EXISTS', agg) == 0 or redis.call('HEXISTS', agg, 'settled') == 1 then return end
  for _, field in ipairs(redis.call('HKEYS', agg)) do
    if string.sub(field, 1, 2) == 'h|' then
      local value = string.sub(field, 3)
      local hll = site .. 'xu:' .. day .. ':' .. value
      redis.call('HSET', agg, 'v|' .. value, redis.call('PFCOUNT', hll))
      redis.call('DEL', hll)
    end
  end
  redis.call('HSET', agg, 'settled', 1)
end

-- Count one view (or event) of a visitor in today's dimensions: ARGV[first], ARGV[first + 1],
-- ... are dimension, value pairs. The day's first settles the days before it in days_key
-- (the site's daily hits).
local function count_dimensions(site, today, visitor, cap, ttl, days_key, first)
  local agg = site .. 'x:' .. today
  local new_day = redis.call('EXISTS', agg) == 0
  if new_day then
    for _, day in ipairs(redis.call('HKEYS', days_key)) do
      if day < today then settle_dimensions(site, day) end
    end
  end
  for i = first, #ARGV - 1, 2 do
    local dimension = ARGV[i]
    local field = dimension .. '|' .. ARGV[i + 1]
    if redis.call('HEXISTS', agg, 'h|' .. field) == 0
       and redis.call('HINCRBY', agg, '#|' .. dimension, 1) > cap then
      redis.call('HINCRBY', agg, '#|' .. dimension, -1)
      field = dimension .. '|(other)'
    end
    local hll = site .. 'xu:' .. today .. ':' .. field
    redis.call('PFADD', hll, visitor)
    if redis.call('HINCRBY', agg, 'h|' .. field, 1) == 1 then redis.call('EXPIRE', hll, ttl) end
  end
  if new_day then redis.call('EXPIRE', agg, ttl) end
end
