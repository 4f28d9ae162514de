-- wrk script: POST /invalidate (the anchor-compatible body) with 2 unique paths
-- per request, the key from IMGFLUSH_KEY; counts 201 answers apart from the rest.
--   wrk -t2 -c16 -d10s --latency -s bench/api.lua http://127.0.0.1:3300
local key = os.getenv("IMGFLUSH_KEY")
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  created = 0
  other = 0
end

function request()
  n = n + 1
  local body = string.format(
    '{"scope":"original","urls":["/sample.li/bench/%d-%d/a.jpg","/sample.li/bench/%d-%d/b.jpg"]}',
    id, n, id, n)
  return wrk.format("POST", "/invalidate",
    { ["Content-Type"] = "application/json", ["X-Client-Key"] = key }, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT created=%d other=%d rps=%.0f p50=%.2f p99=%.2f\n",
    c, o, c / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
