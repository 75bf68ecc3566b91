-- POST a new, varied enquiry (as a recruitment team logs it) on every request.
--   wrk ... -s bench/wrk/post_enquiry.lua http://HOST:PORT -- TOKEN RECEIVED_ON PATH
-- RECEIVED_ON is today in England (YYYY-MM-DD); PATH is /api/v1/authorities/CODE/enquiries
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")

local channels = {"web_form", "web_form", "web_form", "phone", "phone", "email", "event", "referral", "other"}
local households = {"single", "couple", "couple", "other"}
local ethnicities = {"white_british", "white_british", "white_british", "white_other",
   "asian_pakistani", "black_african", "mixed_white_and_black_caribbean", "not_stated"}
local interests = {"mainstream_short_term", "mainstream_long_term", "short_breaks",
   "parent_and_child", "emergency", "sibling_groups", "undecided"}
local districts = {"ST1", "ST2", "ST3", "ST4", "ST6", "ST10", "ST7"}
local first = {"Alex", "Sam", "Jo", "Chris", "Priya", "Amina", "Tom", "Grace", "Mohammed", "Ellie"}
local last = {"Smith", "Jones", "Khan", "Patel", "Taylor", "Brown", "Evans", "Walker"}

local token, received_on, path
local counter = 0

local function pick(list)
   return list[math.random(#list)]
end

function init(args)
   token, received_on, path = args[1], args[2], args[3]
   math.randomseed(os.time() + (thread_no or 0) * 7919)
   wrk.method = "POST"
   wrk.path = path
   wrk.headers["Authorization"] = "Bearer " .. token
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Accept"] = "application/json"
end

function request()
   counter = counter + 1
   local name = pick(first) .. " " .. pick(last)
   local i = math.random(#interests)
   local j = (i % #interests) + 1
   local email = string.format("bench.t%d.%d@example.org", thread_no or 0, counter)
   local body = string.format(
      '{"received_on":"%s","channel":"%s","enquirer_name":"%s","email":"%s",' ..
      '"phone":"07700 9%05d","postcode_district":"%s","household_type":"%s",' ..
      '"ethnicity":"%s","interests":["%s","%s"],"campaign":"bench-campaign",' ..
      '"note":"Logged by the API benchmark"}',
      received_on, pick(channels), name, email, counter % 100000, pick(districts),
      pick(households), pick(ethnicities), interests[i], interests[j])
   return wrk.format("POST", path, nil, body)
end
