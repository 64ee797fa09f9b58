-- GET one path again and again with If-None-Match: the ETag of the copy the
-- reader holds (a trust list: the answer is 304 with no body while it is
-- current); print one line of JSON for bench/http.py. No API key: the
-- public documents take none. wrk counts answers of status 400 and over
-- itself; bench/http.py reads every status in gunicorn's access log.
--   wrk ... -s bench/wrk/get.lua URL -- ETAG

function init(args)
  wrk.method = "GET"
  wrk.headers["If-None-Match"] = args[1]
  -- Behind a deployment's TLS proxy (SECURE_PROXY_SSL_HEADER).
  wrk.headers["X-Forwarded-Proto"] = "https"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "bad": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
