-- KEYS: the site's pages. ARGV: the page, the named pages the site may have.
-- Lists the page (its first view counted) if it is listed already or the site has room:
-- answers 1, else 0 (the caller counts the view on the site's "other" page).
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZINCRBY', KEYS[1], 1, ARGV[1])
return 1
