-- wrk -s purchase.lua: purchaseToken mutations, each with a fresh clientReference; every REPLAY_EVERY-th request
-- replays an earlier request of the same connection-thread verbatim (same customer, meter, reference) to prove
-- that a replay never charges twice. Env: TOKENS (comma list of JWTs), METERS (comma list), DENOMINATION,
-- RUN_ID, REPLAY_EVERY (default 10). Prints `RESULT {json}` like post.lua; graphql = 2xx bodies containing "errors".
local function split(s)
  local out = {}
  for item in string.gmatch(s or "", "[^,]+") do table.insert(out, item) end
  return out
end
local tokens = split(os.getenv("TOKENS"))
local meters = split(os.getenv("METERS"))
local denom = os.getenv("DENOMINATION") or "20000"
local run_id = os.getenv("RUN_ID") or "run"
local replay_every = tonumber(os.getenv("REPLAY_EVERY") or "10")
local query = "mutation Buy($m: String!, $d: Decimal!, $r: String!) { purchaseToken(meterNumber: $m, denomination: $d, clientReference: $r) { id status token totalPaid } }"

local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  thread:set("gqlerr", 0)
  thread:set("replays", 0)
  table.insert(threads, thread)
end

local n = 0
local last = nil
function request()
  n = n + 1
  if last ~= nil and replay_every > 0 and n % replay_every == 0 then
    replays = replays + 1
    return last
  end
  local i = (tid * 7919 + n)
  local token = tokens[(i % #tokens) + 1]
  local meter = meters[(i % #meters) + 1]
  local ref = "bench-" .. run_id .. "-" .. tid .. "-" .. n
  local body = '{"query":"' .. query .. '","variables":{"m":"' .. meter .. '","d":"' .. denom .. '","r":"' .. ref .. '"}}'
  last = wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
  return last
end

function response(status, headers, body)
  -- a refusal (503 with an OVERLOADED body) is counted once, as non2xx, not again here
  if status < 300 and body and string.find(body, '"errors"', 1, true) then
    gqlerr = gqlerr + 1
    if gqlerr <= 3 then io.stderr:write("ERRBODY " .. string.sub(body, 1, 300) .. "\n") end
  end
end

function done(summary, latency, requests)
  local ge, rp = 0, 0
  for _, t in ipairs(threads) do ge = ge + (t:get("gqlerr") or 0); rp = rp + (t:get("replays") or 0) end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests":%d,"secs":%.2f,"rps":%.1f,"lat_ms":{"avg":%.3f,"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"non2xx":%d,"graphql":%d},"replays":%d}\n',
    summary.requests, secs, summary.requests / secs,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, e.status, ge, rp))
end
