-- wrk -s post.lua: POST one GraphQL body (env BODY_FILE), print `RESULT {json}` with rps and latency percentiles.
-- Env: AUTH="Bearer ..." fixed authorization header; UNIQUE_AUTH=1 a different authorization header on every
-- request (defeats inbound/outbound dedup, as Grafbase's benchmark does), or with AUTH a different X-Bench-Unique
-- header beside the fixed token; CHECK=1 count bodies with "errors".
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
if os.getenv("AUTH") and os.getenv("AUTH") ~= "" then wrk.headers["Authorization"] = os.getenv("AUTH") end

local check = os.getenv("CHECK") == "1"
local threads = {}
function setup(thread)
  thread:set("gqlerr", 0)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

if os.getenv("UNIQUE_AUTH") == "1" then
  local fixed = os.getenv("AUTH")
  local n = 0
  function request()
    n = n + 1
    local unique = "u" .. tostring(tid) .. "-" .. tostring(n)
    if fixed and fixed ~= "" then
      -- a customer's token must stay valid (our router verifies it at the edge): the unique value rides beside it
      wrk.headers["X-Bench-Unique"] = unique
    else
      wrk.headers["Authorization"] = "Bearer " .. unique
    end
    return wrk.format()
  end
end
if check then
  function response(status, headers, body)
    if body and string.find(body, '"errors"', 1, true) then gqlerr = gqlerr + 1 end
  end
end

function done(summary, latency, requests)
  local ge = 0
  for _, t in ipairs(threads) do ge = ge + (t:get("gqlerr") or 0) end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests":%d,"secs":%.2f,"rps":%.1f,"lat_ms":{"avg":%.3f,"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"non2xx":%d,"graphql":%s}}\n',
    summary.requests, secs, summary.requests / secs,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, e.status, check and tostring(ge) or '"unchecked"'))
end
