-- KEYS: the site's total, the site's daily hits
-- ARGV: today (yyyymmdd), visitor id, the site's key prefix (its dimensions' keys: same hash
--       tag, same slot), distinct values a dimension keeps a day, their lifetime (seconds),
--       then dimension, value pairs ('event', <name>)
-- A custom event counts in the site's dimensions only (not in its total), and only on a site
-- that exists: answers 1, or 0 where there is no such site.
-- include: dimensions.lua
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
count_dimensions(ARGV[3], ARGV[1], ARGV[2], tonumber(ARGV[4]), ARGV[5], KEYS[2], 6)
return 1
