-- GET the URL given to wrk for a different day on every request, so that nothing kept
-- between changes answers it: each thread walks back from today one day a request, the
-- threads 2,000 days apart.
--   wrk ... -s bench/wrk/get_any_day.lua URL -- TOKEN TODAY_EPOCH SPAN_DAYS
-- SPAN_DAYS 0: "?as_at=DAY"; else "?date_from=DAY&date_to=DAY+SPAN_DAYS-1".
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")

local sent = 0

function init(args)
   wrk.headers["Authorization"] = "Bearer " .. args[1]
   wrk.headers["Accept"] = "application/json"
   today = tonumber(args[2])
   span = tonumber(args[3])
end

local function day(offset)
   return os.date("!%Y-%m-%d", today - offset * 86400)
end

function request()
   local offset = (thread_no - 1) * 2000 + sent
   sent = sent + 1
   local query
   if span > 0 then
      query = "?date_from=" .. day(offset + span - 1) .. "&date_to=" .. day(offset)
   else
      query = "?as_at=" .. day(offset)
   end
   return wrk.format("GET", wrk.path .. query)
end
