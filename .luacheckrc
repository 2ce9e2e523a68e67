-- luacheck for the store's Lua scripts (counter/store/scripts): Redis runs Lua 5.1 with
-- these globals, and no others may be set or read.
std = "lua51"
read_globals = { "redis", "KEYS", "ARGV", "cjson", "cmsgpack", "bit", "struct" }
max_line_length = 100

-- "-- include: uniques.lua" puts its functions before the including script's code.
local uniques = { read_globals = { "recount", "unsettled" } }
files["counter/store/scripts/hit.lua"] = {
  read_globals = { "recount", "unsettled", "count_dimensions", "past_limit" },
}
files["counter/store/scripts/event.lua"] = { read_globals = { "count_dimensions", "past_limit" } }
files["counter/store/scripts/stats.lua"] = uniques
files["counter/store/scripts/refresh_day.lua"] = uniques
-- A library: its functions are used by the scripts that include it.
files["counter/store/scripts/uniques.lua"] = { ignore = { "211" } }
files["counter/store/scripts/dimensions.lua"] = { ignore = { "211" } }
files["counter/store/scripts/rate_window.lua"] = { ignore = { "211" } }
