-- Shared by chat.lua and stream.lua: the request and the machine-readable summary.

local threads = {}

function request_body(stream)
   local model = os.getenv("BENCH_MODEL") or "bench"
   local key = os.getenv("BENCH_KEY")
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   if key and key ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. key
   end
   -- BENCH_CONTENT: the user message, already JSON-escaped (default "hi").
   local content = os.getenv("BENCH_CONTENT") or "hi"
   local body = '{"model":"' .. model .. '","messages":[{"role":"user","content":"' .. content .. '"}]'
   if stream then
      body = body .. ',"stream":true'
   end
   wrk.body = body .. "}"
end

function setup(thread)
   table.insert(threads, thread)
end

function done(summary, latency, requests)
   local complete, bad, events = 0, 0, 0
   for _, t in ipairs(threads) do
      complete = complete + (t:get("complete") or 0)
      bad = bad + (t:get("bad") or 0)
      events = events + (t:get("events") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
         .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
         .. '"latency_us":{"min":%d,"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},'
         .. '"complete":%d,"bad":%d,"events":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9), latency.max,
      complete, bad, events))
end
