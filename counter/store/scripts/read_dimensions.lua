-- KEYS: the site's total (not read: it routes the script to the site's slot on a Cluster)
-- ARGV: the site's key prefix, the fields to read ('h|' for all the site's own, not its pages'
--       '@' dimensions; 'h|*' for all, the per-page pairs too (a backup's); 'h|<dimension>|'
--       for one),
--       then days not settled yet (yyyymmdd): a settled day is read with HMGET instead
-- Answers, a day an array: value ('<dimension>|<value>'), hits, visitors (its HyperLogLog
-- counted), ...
local answer = {}
local wanted = ARGV[2]
local every = wanted == 'h|*'
for i = 3, #ARGV do
  local day = ARGV[i]
  local fields = redis.call('HGETALL', ARGV[1] .. 'x:' .. day)
  local rows = {}
  for j = 1, #fields, 2 do
    local field = fields[j]
    if (every and string.sub(field, 1, 2) == 'h|')
       or (string.sub(field, 1, #wanted) == wanted
           and (wanted ~= 'h|' or string.sub(field, 3, 3) ~= '@')) then
      local value = string.sub(field, 3)
      rows[#rows + 1] = value
      rows[#rows + 1] = tonumber(fields[j + 1])
      rows[#rows + 1] = redis.call('PFCOUNT', ARGV[1] .. 'xu:' .. day .. ':' .. value)
    end
  end
  answer[#answer + 1] = rows
end
return answer
