-- KEYS: total, daily hits, daily uniques, unique visitor-days, today's HLL, metadata,
--       the rate window's hits per visitor
-- ARGV: today (yyyymmdd), visitor id, oldest day kept (yyyymmdd), HLL lifetime (seconds),
--       now (ms since the epoch), HLL key prefix (+ yyyymmdd: same hash tag, same slot),
--       1 to answer the unique visitor-days too, the visitor's hits allowed per window
--       (0: no limit), the window (seconds); for a site's page view also KEYS[8], ARGV[10-12]
--       (the page) and ARGV[13-15] (the site's key prefix, distinct values a dimension keeps
--       a day, their lifetime in seconds), then its dimension, value pairs
-- include: uniques.lua
-- include: rate_window.lua
local wait = past_limit(KEYS[7], ARGV[2], tonumber(ARGV[8]), ARGV[9])
if wait then return 'rate ' .. wait end
local total = redis.pcall('INCR', KEYS[1])
if type(total) == 'table' then  -- an error: a total of 2^63 - 1 (written by hand) overflows
  if string.find(tostring(total.err), 'overflow', 1, true) then return 'limit' end
  return total  -- any other, as Redis answered it
end
if total > 9007199254740991 then  -- MAX_TOTAL: past it Lua's numbers (and JSON's) are inexact
  redis.call('DECR', KEYS[1])
  return 'limit'
end
local flags = ''  -- appended to the answer: c = this hit made the counter, x = page refused
if total == 1 and redis.call('HSETNX', KEYS[6], 'created', ARGV[5]) == 1 then flags = 'c' end
local day_hits = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
local new_today = redis.call('PFADD', KEYS[5], ARGV[2])
if new_today == 1 and redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
  recount(KEYS[3], KEYS[4], KEYS[5], ARGV[1])
end
if day_hits == 1 then
  -- First hit of a day: let the day's HLL expire with the retention, settle the days before,
  -- drop days past the retention.
  redis.call('EXPIRE', KEYS[5], ARGV[4])
  for _, day in ipairs(redis.call('HKEYS', KEYS[2])) do
    if day < ARGV[3] then
      redis.call('HDEL', KEYS[2], day)
    elseif day < ARGV[1] and redis.call('HEXISTS', KEYS[3], day) == 0 then
      recount(KEYS[3], KEYS[4], ARGV[6] .. day, day)
    end
  end
  for _, day in ipairs(redis.call('HKEYS', KEYS[3])) do
    if day < ARGV[3] then redis.call('HDEL', KEYS[3], day) end
  end
end
local visitor_days = 0
if ARGV[7] == '1' then
  visitor_days = tonumber(redis.call('GET', KEYS[4]) or '0') + unsettled(KEYS[2], KEYS[3], ARGV[6])
end
-- A site's page view: admit the page into the site's pages (KEYS[8]) when it is known, is the
-- "other" page (ARGV[12]) or the site has room for ARGV[11] named pages; flag x if not.
if KEYS[8] then
  local page = ARGV[10]
  if redis.call('ZSCORE', KEYS[8], page) or page == ARGV[12]
     or redis.call('ZCARD', KEYS[8]) < tonumber(ARGV[11]) then
    redis.call('ZINCRBY', KEYS[8], 1, page)
  else
    flags = flags .. 'x'
  end
  if ARGV[13] then  -- its functions are defined here: a hit that is no page view skips them
-- include: dimensions.lua
    count_dimensions(ARGV[13], ARGV[1], ARGV[2], tonumber(ARGV[14]), ARGV[15], KEYS[2], 16)
  end
end
-- One flat string, not a table: Redis answers a table as a deferred-length array, which costs
-- the server as much as the rest of the script (docs/BENCHMARKS.md). %d is exact to 2^53.
local answer = string.format('%d %d %d %d', total, new_today, day_hits, visitor_days)
if flags ~= '' then return answer .. ' ' .. flags end
return answer
