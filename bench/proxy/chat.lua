-- wrk script: POST one non-streaming chat completion per request.
--   wrk -t1 -c64 -d15s -s bench/proxy/chat.lua http://127.0.0.1:4000/chat/completions
-- BENCH_MODEL (default "bench") and BENCH_KEY (a bearer key; none when unset) come from
-- the environment. wrk counts non-2xx replies itself; done() prints one WRK_JSON line.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
request_body(false)
