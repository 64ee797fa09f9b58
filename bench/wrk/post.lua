-- POST the request bodies of a file (one JSON body a line), in turn, with
-- the benchmark's API key; print one line of JSON for bench/http.py. No
-- response() callback: wrk would hand every body to Lua, a cost that falls
-- on the larger answers only (wrk shares the machine with the server). wrk
-- counts answers of status 400 and over itself; bench/http.py reads every
-- status in gunicorn's access log.
--   wrk ... -s bench/wrk/post.lua URL -- BODIES_FILE API_KEY

function init(args)
  bodies = {}
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(bodies, line) end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Api-Key " .. args[2]
  -- Behind a deployment's TLS proxy (SECURE_PROXY_SSL_HEADER).
  wrk.headers["X-Forwarded-Proto"] = "https"
  index = 0
end

function request()
  index = index % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[index])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "bad": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
