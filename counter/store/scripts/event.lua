-- KEYS: the site's total, the site's daily hits, the site's rate window (HIT_RATE_LIMIT)
-- ARGV: today (yyyymmdd), visitor id, the site's key prefix (its dimensions' keys: same hash
--       tag, same slot), distinct values a dimension keeps a day, their lifetime (seconds),
--       the visitor's hits allowed per window (0: no limit), the window (seconds), then
--       dimension, value pairs ('event', <name>)
-- A custom event counts in the site's dimensions only (not in its total), and only on a site
-- that exists, within the visitor's rate window shared with the site's page views. Answers
-- 1, 0 where there is no such site, or 'rate <seconds>' past the visitor's limit.
-- include: dimensions.lua
-- include: rate_window.lua
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local wait = past_limit(KEYS[3], ARGV[2], tonumber(ARGV[6]), ARGV[7])
if wait then return 'rate ' .. wait end
count_dimensions(ARGV[3], ARGV[1], ARGV[2], tonumber(ARGV[4]), ARGV[5], KEYS[2], 8)
return 1
