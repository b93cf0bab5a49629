-- wrk script: semantic lookups (k = 1 over the namespace) with 384-dimension vectors from the
-- same kind of clusters put.lua stores. Env: CACHE_TOKEN, CACHE_NS, LOOKUP_MODE (vector|key).
local token = os.getenv("CACHE_TOKEN") or "bench-token"
local ns = os.getenv("CACHE_NS") or "bench/ns"
local mode = os.getenv("LOOKUP_MODE") or "vector"
local dim = 384
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

-- 256 query bodies prepared per thread, so the client spends its time on the network.
function init(args)
  math.randomseed(tid * 7919)
  local centres = {}
  for c = 1, 64 do
    local v = {}
    for i = 1, dim do v[i] = math.random() * 2 - 1 end
    centres[c] = v
  end
  bodies = {}
  for b = 1, 256 do
    if mode == "key" then
      bodies[b] = '{"key":"a-' .. tid .. '-' .. b .. '"}'
    else
      local c = centres[math.random(#centres)]
      local parts = {}
      for i = 1, dim do parts[i] = string.format("%.4f", c[i] + (math.random() - 0.5) * 0.8) end
      bodies[b] = '{"vector":[' .. table.concat(parts, ",") .. ']}'
    end
  end
  n = 0
  headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

function request()
  n = n + 1
  return wrk.format("POST", "/internal/v1/cache/" .. ns .. "/lookup", headers, bodies[(n % #bodies) + 1])
end
