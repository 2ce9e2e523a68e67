-- KEYS: total, metadata. ARGV: amount, 1 when the bounds apply, default lower, upper,
-- the largest total allowed (either sign).
-- Returns {status, value}: status 1 updated, 0 out of bounds, -1 no such counter,
-- -2 the total would pass the largest allowed; the value unchanged as stored (a string).
local current = redis.call('GET', KEYS[1])
if not current then return {-1, 0} end
local amount = tonumber(ARGV[1])
if ARGV[2] == '1' then
  local lower = tonumber(redis.call('HGET', KEYS[2], 'update_lowerbound') or ARGV[3])
  local upper = tonumber(redis.call('HGET', KEYS[2], 'update_upperbound') or ARGV[4])
  if amount < lower or amount > upper then return {0, current} end
end
local limit = tonumber(ARGV[5])
local after = tonumber(current) + amount
if after > limit or after < -limit then return {-2, current} end
return {1, redis.call('INCRBY', KEYS[1], ARGV[1])}
