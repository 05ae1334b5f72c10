-- wrk script for bench/ingest.py: POST pre-signed, distinct webhooks.
--
-- TDS_BENCH_REQUESTS names a file written by ingest.py, one request a line:
-- "<hex X-Zoho-Webhook-Signature> <JSON body>"; TDS_BENCH_THREADS is wrk's
-- -t. Signing happens in Python beforehand so the load generator spends no
-- CPU on it. Thread k of n
-- sends lines k, k+n, k+2n, ... so no two requests repeat an event, and
-- wraps around (repeats, answered 200 as duplicates) only past the end;
-- ingest.py compares the count it gets with the lines it wrote.

local path = "/api/zoho/webhooks/products"
local counter = 0

-- Runs in the main state; each thread's state gets its own index.
function setup(thread)
   thread:set("index", counter)
   counter = counter + 1
end

function init(args)
   local total = tonumber(os.getenv("TDS_BENCH_THREADS"))
   local requests = {}
   local line_number = 0
   for line in io.lines(os.getenv("TDS_BENCH_REQUESTS")) do
      if line_number % total == index then
         local signature, body = line:match("^(%x+) (.*)$")
         requests[#requests + 1] = wrk.format("POST", path, {
            ["Content-Type"] = "application/json",
            ["X-Zoho-Webhook-Signature"] = signature,
         }, body)
      end
      line_number = line_number + 1
   end
   own_requests = requests
   next_request = 0
end

function request()
   next_request = next_request + 1
   if next_request > #own_requests then
      next_request = 1
   end
   return own_requests[next_request]
end
