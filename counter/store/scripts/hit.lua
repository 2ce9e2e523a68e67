-- KEYS: total, daily hits, daily uniques, unique visitor-days, today's HLL, metadata,
--       the rate window's hits per visitor, the rate window's hits per address
-- ARGV: today (yyyymmdd), visitor id, oldest day kept (yyyymmdd), HLL lifetime (seconds),
--       now (ms since the epoch), HLL key prefix (+ yyyymmdd: same hash tag, same slot),
--       1 to answer the unique visitor-days too, the visitor's hits allowed per window
--       (0: no limit), the window (seconds), 1 if this hit may make the counter (its
--       new-counter budget is paid) else 0, the address id, the address's hits allowed per
--       window (0: no limit), that window (seconds);
--       a page's own hit: ARGV[14] its path, kept in its metadata when this hit makes it;
--       a site's hit of a page view: KEYS[9] (the site's pages), KEYS[10] (who is here now:
--       visitor|page -> last seen, ms), ARGV[14-17] (the page, the named pages the site may
--       have, the "other" page, 1 to admit a page not listed yet), ARGV[18-19] (the "now"
--       window in ms, the pairs it keeps at most) and ARGV[20-23] (the site's key prefix,
--       distinct values a dimension keeps a day, their lifetime in seconds, distinct per-page
--       pairs a dimension keeps a day), then its dimension, value pairs (a page's own:
--       '@<dimension>', '<path>\t<value>', under '(other)' when the site has no room for the page)
-- Answers "new" (and writes nothing) for a counter that does not exist when ARGV[10] is 0.
-- include: uniques.lua
-- include: rate_window.lua
if ARGV[10] ~= '1' and redis.call('EXISTS', KEYS[1]) == 0 then return 'new' end
local wait = past_limit(KEYS[7], ARGV[2], tonumber(ARGV[8]), ARGV[9])
  or past_limit(KEYS[8], ARGV[11], tonumber(ARGV[12]), ARGV[13])
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
-- Appended to the answer: c = this hit made the counter; a site's hit of a page view:
-- n = the page is not listed yet (not admitted: ARGV[17] was 0), x = no room for it.
local flags = ''
if total == 1 and redis.call('HSETNX', KEYS[6], 'created', ARGV[5]) == 1 then
  flags = 'c'
  if ARGV[14] and not KEYS[9] then redis.call('HSET', KEYS[6], 'path', ARGV[14]) end
end
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
-- A site's page view: count the page in the site's pages (KEYS[9]) when it is listed or is the
-- "other" page (ARGV[16]); list a new page only when ARGV[17] is 1 (its counter's budget is
-- paid) and the site has room for ARGV[15] named pages; else flag it (n or x).
if KEYS[9] then
  local page = ARGV[14]
  local listed = true
  if redis.call('ZSCORE', KEYS[9], page) or page == ARGV[16] then
    redis.call('ZINCRBY', KEYS[9], 1, page)
  elseif redis.call('ZCARD', KEYS[9]) >= tonumber(ARGV[15]) then
    flags = flags .. 'x'
    listed = false
  elseif ARGV[17] == '1' then
    redis.call('ZINCRBY', KEYS[9], 1, page)
  else  -- listed next unless its viewer's budget is spent: its pairs counted as its own
    flags = flags .. 'n'
  end
  -- Who is here now: each visitor's pages seen in the window; an older or past-the-cap pair
  -- goes when a new pair comes, and the set expires a window after the last view.
  local window = tonumber(ARGV[18])
  if redis.call('ZADD', KEYS[10], ARGV[5], ARGV[2] .. '|' .. page) == 1 then
    redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', tonumber(ARGV[5]) - window)
    redis.call('ZREMRANGEBYRANK', KEYS[10], 0, -tonumber(ARGV[19]) - 1)
  end
  redis.call('PEXPIRE', KEYS[10], window)
  if ARGV[20] then  -- its functions are defined here: a hit that is no page view skips them
-- include: dimensions.lua
    count_dimensions(ARGV[20], ARGV[1], ARGV[2], tonumber(ARGV[21]), ARGV[22], KEYS[2], 24,
      tonumber(ARGV[23]), listed)
  end
end
-- One flat string, not a table: Redis answers a table as a deferred-length array, which costs
-- the server as much as the rest of the script (docs/BENCHMARKS.md). %d is exact to 2^53.
local answer = string.format('%d %d %d %d', total, new_today, day_hits, visitor_days)
if flags ~= '' then return answer .. ' ' .. flags end
return answer
