-- KEYS: total, metadata, daily hits, daily uniques, unique visitor-days, bot hits, then the
--       days' HyperLogLogs (the whole retention).
-- ARGV: the new total, 1 to make the counter when it does not exist, now (ms since the epoch).
-- Returns {status, old}: 1 reset, 2 made (it did not exist), -1 no such counter (nothing
-- written); old as stored, a string ('0' when there was none).
-- A reset starts the counter over at the new total: its history, uniques and bot hits go, so
-- that no day ever shows more hits than the total. Metadata (the admin key, options, the
-- creation time) and the rate windows are kept.
local old = redis.call('GET', KEYS[1])
if not old and ARGV[2] ~= '1' then return {-1, '0'} end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('DEL', unpack(KEYS, 3))
if old then return {1, old} end
redis.call('HSETNX', KEYS[2], 'created', ARGV[3])
return {2, '0'}
