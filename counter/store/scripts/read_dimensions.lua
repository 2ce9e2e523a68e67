-- KEYS: the site's total (not read: it routes the script to the site's slot on a Cluster)
-- ARGV: the site's key prefix, the fields to read ('h|' for all, 'h|<dimension>|' for one),
--       then days (yyyymmdd)
-- Answers, a day an array: value ('<dimension>|<value>'), hits, visitors, ... A settled day's
-- visitors are in its hash; a day not settled yet has its HyperLogLogs counted here.
local answer = {}
local wanted = ARGV[2]
for i = 3, #ARGV do
  local day = ARGV[i]
  local fields = redis.call('HGETALL', ARGV[1] .. 'x:' .. day)
  local by_name = {}
  for j = 1, #fields, 2 do by_name[fields[j]] = fields[j + 1] end
  local settled = by_name['settled'] ~= nil
  local rows = {}
  for j = 1, #fields, 2 do
    local field = fields[j]
    if string.sub(field, 1, #wanted) == wanted then
      local value = string.sub(field, 3)
      local visitors
      if settled then
        visitors = tonumber(by_name['v|' .. value] or '0')
      else
        visitors = redis.call('PFCOUNT', ARGV[1] .. 'xu:' .. day .. ':' .. value)
      end
      rows[#rows + 1] = value
      rows[#rows + 1] = tonumber(fields[j + 1])
      rows[#rows + 1] = visitors
    end
  end
  answer[#answer + 1] = rows
end
return answer
