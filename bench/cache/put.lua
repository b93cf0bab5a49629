-- wrk script: PUT cache entries with 384-dimension vectors, unique keys (bench/cache/run stops
-- wrk with SIGINT when the namespace is full enough). Env: CACHE_TOKEN, CACHE_NS
-- (tenant/namespace), KEY_PREFIX (distinguishes runs that fill the same namespace).
local token = os.getenv("CACHE_TOKEN") or "bench-token"
local ns = os.getenv("CACHE_NS") or "bench/ns"
local prefix = os.getenv("KEY_PREFIX") or "a"
local dim = 384
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

-- Clustered vectors: 64 random centres per thread, each request a centre plus noise.
function init(args)
  math.randomseed(tid * 7919)
  centres = {}
  for c = 1, 64 do
    local v = {}
    for i = 1, dim do v[i] = math.random() * 2 - 1 end
    centres[c] = v
  end
  sent = 0
end

local function vector()
  local c = centres[math.random(#centres)]
  local parts = {}
  for i = 1, dim do parts[i] = string.format("%.4f", c[i] + (math.random() - 0.5) * 0.8) end
  return "[" .. table.concat(parts, ",") .. "]"
end

function request()
  sent = sent + 1
  local body = '{"vector":' .. vector() .. ',"response":{"text":"cached answer ' .. sent .. '"},"cost_micro_usd":1200,"ttl_seconds":86400}'
  return wrk.format("PUT", "/internal/v1/cache/" .. ns .. "/entries/" .. prefix .. "-" .. tid .. "-" .. sent,
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end
