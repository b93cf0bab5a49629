-- wrk script: one token-bucket op per request on 1000 keys (POST /internal/v1/counters/apply).
local token = os.getenv("CACHE_TOKEN") or "bench-token"
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(tid * 104729)
  headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

function request()
  local key = "tenant-" .. math.random(1000) .. "/rpm"
  local body = '{"ops":[{"key":"' .. key .. '","kind":"bucket","amount":1,"capacity":1000000000,"refill_per_second":1000000,"ttl_seconds":3600}]}'
  return wrk.format("POST", "/internal/v1/counters/apply", headers, body)
end
