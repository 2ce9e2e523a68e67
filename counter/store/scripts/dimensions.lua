-- Shared by the scripts whose first lines include "-- include: dimensions.lua": a site's
-- dimensions (docs/DIMENSIONS.md), daily aggregates, never a record per visitor.
--
-- Per day one hash, <site>x:<day>. While the day is current: 'h|<dimension>|<value>' its
-- hits, '#|<dimension>' its distinct values, at most the cap a day (past it, a new value counts
-- as '(other)'), and each value's visitors in a HyperLogLog, <site>xu:<day>:<dimension>|<value>.
-- Settling the day (its first page view of a later day) compacts it: per dimension one field,
-- 's|<dimension>', of lines '<value>\t<hits>\t<visitors>', and 'settled'; the h| fields and
-- the HyperLogLogs go. A reader then gets a settled day's dimension in one string. The hash
-- expires after the retention. <site> is the site's key prefix: one hash tag, one slot.
-- An import into a live day (counter/store/backup.py, restore_dimensions) adds its figures to
-- 'i|<dimension>' fields, lines as 's|' ones, which readers add: settling leaves them.

-- Settle a day: each value's hits and visitors (its HyperLogLog counted, then deleted) into
-- its dimension's line list; the per-value fields go.
local function settle_dimensions(site, day)
  local agg = site .. 'x:' .. day
  if redis.call('EXISTS', agg) == 0 or redis.call('HEXISTS', agg, 'settled') == 1 then return end
  local fields = redis.call('HGETALL', agg)
  local lines, names, doomed = {}, {}, {}
  for j = 1, #fields, 2 do
    local field = fields[j]
    if string.sub(field, 1, 2) == 'h|' then
      local name = string.sub(field, 3)  -- '<dimension>|<value>'
      local bar = string.find(name, '|', 1, true)
      local dimension = string.sub(name, 1, bar - 1)
      local hll = site .. 'xu:' .. day .. ':' .. name
      if not lines[dimension] then
        lines[dimension] = {}
        names[#names + 1] = dimension
      end
      local list = lines[dimension]
      list[#list + 1] = string.sub(name, bar + 1) .. '\t' .. fields[j + 1] .. '\t' ..
        redis.call('PFCOUNT', hll)
      redis.call('DEL', hll)
      doomed[#doomed + 1] = field
    end
  end
  table.sort(names)
  for _, dimension in ipairs(names) do
    redis.call('HSET', agg, 's|' .. dimension, table.concat(lines[dimension], '\n'))
  end
  for i = 1, #doomed, 500 do
    redis.call('HDEL', agg, unpack(doomed, i, math.min(i + 499, #doomed)))
  end
  redis.call('HSET', agg, 'settled', 1)
end

-- Count one view (or event) of a visitor in today's dimensions: ARGV[first], ARGV[first + 1],
-- ... are dimension, value pairs. The day's first settles the days before it in days_key
-- (the site's daily hits).
--
-- A page's own dimensions are pairs too: '@<dimension>', '<page path>\t<value>' (per-page
-- pairs, read by a breakdown's ?page=, ?referrer=, ?campaign=), kept to page_cap distinct
-- pairs a dimension a day; a page the site has no room for (listed false) counts as '(other)',
-- and a pair past the cap as '(other)' whole. Per-page pairs cost two commands in the common
-- case (HINCRBY, PFADD): a new field is noticed by HINCRBY's 1, not by an HEXISTS first.
local function count_dimensions(site, today, visitor, cap, ttl, days_key, first, page_cap, listed)
  local agg = site .. 'x:' .. today
  local new_day = redis.call('EXISTS', agg) == 0
  if new_day then
    for _, day in ipairs(redis.call('HKEYS', days_key)) do
      if day < today then settle_dimensions(site, day) end
    end
  end
  for i = first, #ARGV - 1, 2 do
    local dimension = ARGV[i]
    if string.sub(dimension, 1, 1) == '@' then
      if page_cap then
        local value = ARGV[i + 1]
        if not listed then
          value = '(other)' .. string.sub(value, (string.find(value, '\t', 1, true)))
        end
        local field = dimension .. '|' .. value
        local hits = redis.call('HINCRBY', agg, 'h|' .. field, 1)
        if hits == 1 and redis.call('HINCRBY', agg, '#|' .. dimension, 1) > page_cap then
          redis.call('HINCRBY', agg, '#|' .. dimension, -1)
          redis.call('HDEL', agg, 'h|' .. field)
          field = dimension .. '|(other)'
          hits = redis.call('HINCRBY', agg, 'h|' .. field, 1)
        end
        local hll = site .. 'xu:' .. today .. ':' .. field
        redis.call('PFADD', hll, visitor)
        if hits == 1 then redis.call('EXPIRE', hll, ttl) end
      end
    else
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
  end
  if new_day then redis.call('EXPIRE', agg, ttl) end
end
