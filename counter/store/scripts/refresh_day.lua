-- KEYS: daily uniques, unique visitor-days, the day's HLL. ARGV: the day.
-- After a merge: the day's uniques are its HLL's count again (settled); visitor-days follow.
-- include: uniques.lua
recount(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
