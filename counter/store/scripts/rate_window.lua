-- Shared by the scripts whose first lines include "-- include: rate_window.lua".

-- HIT_RATE_LIMIT: a fixed window per counter, started by its first hit, counting each
-- visitor's hits in a hash. Answers the seconds left in the window when this hit is past the
-- visitor's limit (not counted), else nil. A limit of 0 is none.
local function past_limit(window, visitor, limit, seconds)
  if limit <= 0 then return nil end
  local hits = redis.call('HINCRBY', window, visitor, 1)
  if hits == 1 and redis.call('TTL', window) == -1 then redis.call('EXPIRE', window, seconds) end
  if hits > limit then return redis.call('TTL', window) end
  return nil
end
