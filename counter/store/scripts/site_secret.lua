-- KEYS: the site's metadata, the site's pages. ARGV: a fresh random secret.
-- Returns {secret, pages the site had when this call made its secret (0 if it had one)}.
local secret = redis.call('HGET', KEYS[1], 'page_secret')
if secret then return {secret, 0} end
redis.call('HSET', KEYS[1], 'page_secret', ARGV[1])
return {ARGV[1], redis.call('ZCARD', KEYS[2])}
