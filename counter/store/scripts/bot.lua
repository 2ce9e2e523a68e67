-- KEYS: bot total, total. A bot is shown the total but does not change it; its hits are
-- counted on counters that exist only (a crawler of random names makes no keys).
local total = redis.call('GET', KEYS[2])
if total then redis.call('INCR', KEYS[1]) end
return total or '0'  -- as stored: a string
