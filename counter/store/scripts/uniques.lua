-- Shared by the scripts whose first line is "-- include: uniques.lua" (the loader puts this
-- file in that line's place).
--
-- A day's uniques are its HyperLogLog's PFCOUNT. Counting it on every hit that changes the HLL
-- (nearly every new visitor while a day fills) doubled the hit script's Redis CPU, so a day is
-- counted once, when the next day starts: "settled" into du (and its uniques added to uv).
-- Until then readers count its HLL. A day already settled (a host whose clock lags, an import)
-- is kept current by every hit that changes its HLL, as before.

-- Settle a day: its uniques (du[day]) become its HLL's count, and uv follows the change.
local function recount(du, uv, hll, day)
  local uniques = redis.call('PFCOUNT', hll)
  local before = tonumber(redis.call('HGET', du, day) or '0')
  if uniques ~= before then
    redis.call('HSET', du, day, uniques)
    redis.call('INCRBY', uv, uniques - before)
  end
end
-- The uniques of the days in d that are not settled yet, counted from their HLLs.
local function unsettled(d, du, hll_prefix)
  local days = redis.call('HKEYS', d)
  if #days == 0 then return 0 end
  local settled = redis.call('HMGET', du, unpack(days))
  local uniques = 0
  for i, day in ipairs(days) do
    if not settled[i] then uniques = uniques + redis.call('PFCOUNT', hll_prefix .. day) end
  end
  return uniques
end
