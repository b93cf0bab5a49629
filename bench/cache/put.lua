-- wrk script: PUT cache entries with 384-dimension vectors, unique keys, then stop.
-- Env: CACHE_TOKEN, CACHE_NS (tenant/namespace), PUT_PER_THREAD (entries each thread stores),
-- KEY_PREFIX (distinguishes runs that fill the same namespace).
local token = os.getenv("CACHE_TOKEN") or "bench-token"
local ns = os.getenv("CACHE_NS") or "bench/ns"
local per_thread = tonumber(os.getenv("PUT_PER_THREAD") or "5000")
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
  sent, done = 0, 0
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

function response(status, headers, body)
  done = done + 1
  if done >= per_thread then wrk.thread:stop() end
end
