-- A page view through the page script's beacon (POST /e/<site>) with every dimension: the
-- browsers' User-Agents of load.lua, 20,000 public client addresses (a country each to look
-- up; X-Forwarded-For, believed because the bench trusts 127.0.0.1 as its proxy), 50 pages,
-- referrers, campaigns and width classes. The site and its pages exist after the warm-up.
local agents = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
}
local referrers = { "www.google.com", "news.ycombinator.com", "blog.example", "t.co", "" }
local sources = { "newsletter", "mastodon", "", "", "" }
local widths = { "s", "m", "l", "x" }
wrk.method = "POST"
request = function()
  local n = math.random(1, 20000)
  local ip = (math.floor(n / 256) % 200 + 1) .. "." .. (n % 256) .. "." .. math.random(0, 255) .. ".7"
  local body = string.format('{"p":"/page/%d","r":"%s","s":"%s","m":"email","w":"%s"}',
    math.random(1, 50), referrers[math.random(#referrers)], sources[math.random(#sources)],
    widths[math.random(#widths)])
  return wrk.format("POST", nil, {
    ["User-Agent"] = agents[math.random(#agents)],
    ["X-Forwarded-For"] = ip,
    ["Content-Type"] = "text/plain",
  }, body)
end
