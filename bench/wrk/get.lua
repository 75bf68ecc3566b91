-- GET the URL given to wrk (path and query included), optionally with a bearer token.
--   wrk ... -s bench/wrk/get.lua URL -- [TOKEN]
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")

function init(args)
   if args[1] and args[1] ~= "" and args[1] ~= "-" then
      wrk.headers["Authorization"] = "Bearer " .. args[1]
   end
   wrk.headers["Accept"] = "application/json"
end
