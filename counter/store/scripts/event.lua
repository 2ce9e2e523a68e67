-- KEYS: the site's total, the site's daily hits, the site's rate windows (HIT_RATE_LIMIT
--       per visitor, ADDRESS_HIT_RATE_LIMIT per address)
-- ARGV: today (yyyymmdd), visitor id, the site's key prefix (its dimensions' keys: same hash
--       tag, same slot), distinct values a dimension keeps a day, their lifetime (seconds),
--       the visitor's hits allowed per window (0: no limit), the window (seconds), the
--       address id, its hits allowed per window (0: no limit), that window, the per-page
--       pairs a dimension keeps a day, then dimension, value pairs ('event', <name>, and
--       '@event', '<path>\t<name>' when the event names its page: counted under the page
--       '(other)' unless the page was viewed today, its 'page' value kept)
-- A custom event counts in the site's dimensions only (not in its total), and only on a site
-- that exists, within the visitor's and the address' rate windows shared with the site's
-- page views. Answers 1, 0 where there is no such site, or 'rate <seconds>' past a limit.
-- include: dimensions.lua
-- include: rate_window.lua
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local wait = past_limit(KEYS[3], ARGV[2], tonumber(ARGV[6]), ARGV[7])
  or past_limit(KEYS[4], ARGV[8], tonumber(ARGV[9]), ARGV[10])
if wait then return 'rate ' .. wait end
local listed = true
for i = 12, #ARGV - 1, 2 do
  if ARGV[i] == '@event' then
    local path = string.sub(ARGV[i + 1], 1, string.find(ARGV[i + 1], '\t', 1, true) - 1)
    listed = redis.call('HEXISTS', ARGV[3] .. 'x:' .. ARGV[1], 'h|page|' .. path) == 1
  end
end
count_dimensions(ARGV[3], ARGV[1], ARGV[2], tonumber(ARGV[4]), ARGV[5], KEYS[2], 12,
  tonumber(ARGV[11]), listed)
return 1
