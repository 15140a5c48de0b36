-- wrk script: POST one streaming chat completion per request ("stream": true) and check
-- that every stream ends with `data: [DONE]`: a cut or error-ended stream is counted
-- as bad, so streams/s only counts complete streams.
--   wrk -t1 -c64 -d15s -s bench/proxy/stream.lua http://127.0.0.1:4000/chat/completions
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
request_body(true)

complete = 0
bad = 0
-- Data events per stream, for the report (a 100-chunk stream has about 103).
events = 0

function response(status, headers, body)
   if status == 200 and body:sub(-14) == "data: [DONE]\n\n" then
      complete = complete + 1
      local _, n = body:gsub("data: ", "")
      events = events + n
   else
      bad = bad + 1
   end
end
