-- wrk script: cycles over R prepared requests, request k naming host app<(k-1) % N + 1>.bench.test with
-- the path /?k, and prints one machine-readable BENCH line at the end.
-- Usage: wrk ... -s bench/hosts.lua <url> -- N [R]   (R defaults to N)
-- A load of one name gets R = N as well, so that wrk cycles over as many distinct requests (LuaJIT interns
-- equal strings: the query makes them distinct) as the load of N names does, and its own cache misses
-- are the same on both sides of a ratio such as router/router1name.
local requests = {}
local r = 1
local i = 0

function init(args)
  local n = tonumber(args[1]) or 1
  r = tonumber(args[2]) or n
  for k = 1, r do
    requests[k] = wrk.format("GET", "/?" .. k, { Host = "app" .. ((k - 1) % n + 1) .. ".bench.test" })
  end
end

function request()
  i = i % r + 1
  return requests[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d "
      .. "connect=%d read=%d write=%d timeout=%d non2xx=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status))
end
