-- KEYS: total, metadata. ARGV: new value, 1 when enable_reset must be on.
-- Returns {status, old}: status 1 set, 0 refused (reset disabled), -1 no such counter; old
-- as stored (a string: a number past 2^53 is not held exactly in Lua).
local old = redis.call('GET', KEYS[1])
if not old then return {-1, 0} end
if ARGV[2] == '1' and redis.call('HGET', KEYS[2], 'enable_reset') ~= '1' then
  return {0, old}
end
redis.call('SET', KEYS[1], ARGV[1])
return {1, old}
