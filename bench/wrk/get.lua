-- GET the URL given to wrk (path and query included), optionally with a bearer token.
--   wrk ... -s bench/wrk/get.lua URL -- [TOKEN] [ACCEPT]
-- TOKEN "-" or empty: no Authorization header; ACCEPT defaults to application/json.
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")

function init(args)
   if args[1] and args[1] ~= "" and args[1] ~= "-" then
      wrk.headers["Authorization"] = "Bearer " .. args[1]
   end
   wrk.headers["Accept"] = (args[2] and args[2] ~= "") and args[2] or "application/json"
end
