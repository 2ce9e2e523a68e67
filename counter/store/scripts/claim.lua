-- KEYS: total, metadata. ARGV: now (ms), the admin key's hash, private ('' leaves it).
redis.call('SET', KEYS[1], 0, 'NX')
redis.call('HSETNX', KEYS[2], 'created', ARGV[1])
redis.call('HSET', KEYS[2], 'admin_key_sha256', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], 'private', ARGV[3]) end
return redis.call('GET', KEYS[1])
