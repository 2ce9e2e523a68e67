-- KEYS: metadata. ARGV: the admin key's hash as the caller read it ('' for none), the new one.
-- Returns 1 replaced, 0 it changed meanwhile (a concurrent rotation), -1 no such counter.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if (redis.call('HGET', KEYS[1], 'admin_key_sha256') or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'admin_key_sha256', ARGV[2])
return 1
