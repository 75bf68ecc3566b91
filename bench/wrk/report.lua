-- Shared by every wrk script of bench/api.py: counts status codes per thread, keeps one
-- sample body of a non-2xx answer, and prints one machine-readable summary line at the end.
--
-- Load it first thing in a script with:
--   dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")

local threads = {}

function setup(thread)
   thread:set("thread_no", #threads + 1)
   table.insert(threads, thread)
end

statuses = {}
bad_sample = ""

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
   if (status < 200 or status > 399) and bad_sample == "" and body then
      bad_sample = string.sub(body, 1, 400)
   end
end

local function json_string(s)
   s = string.gsub(s, '[%c"\\]', function(c)
      if c == '"' then return '\\"' end
      if c == "\\" then return "\\\\" end
      return string.format("\\u%04x", string.byte(c))
   end)
   return '"' .. s .. '"'
end

function done(summary, latency, requests)
   local counts, sample = {}, ""
   for _, thread in ipairs(threads) do
      local per_thread = thread:get("statuses") or {}
      for code, n in pairs(per_thread) do
         counts[code] = (counts[code] or 0) + n
      end
      local s = thread:get("bad_sample")
      if sample == "" and s and s ~= "" then sample = s end
   end
   local parts = {}
   for code, n in pairs(counts) do
      table.insert(parts, string.format("%s:%d", json_string(code), n))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},' ..
      '"statuses":{%s},"bad_sample":%s}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.max,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9),
      table.concat(parts, ","), json_string(sample)))
end
