-- KEYS: the period's salt. ARGV: a fresh random salt, seconds until it must be gone.
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
return redis.call('GET', KEYS[1])
