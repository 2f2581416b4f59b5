-- wrk script: cycles the Host header over N names (app1.bench.test .. appN.bench.test) and prints one
-- machine-readable BENCH line at the end. Usage: wrk ... -s bench/hosts.lua <url> -- N
local n = 1
local requests = {}
local i = 0

function init(args)
  n = tonumber(args[1]) or 1
  for k = 1, n do
    requests[k] = wrk.format("GET", "/", { Host = "app" .. k .. ".bench.test" })
  end
end

function request()
  i = i % n + 1
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
