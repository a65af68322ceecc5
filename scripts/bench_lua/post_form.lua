-- POST one fixed form body on every request (client_credentials, introspection).
-- Arguments: BODY [MAX_RESPONSES DONE_FILE]. With MAX_RESPONSES the thread stops after that
-- many responses (the long memory run) and writes DONE_FILE, on which the harness interrupts
-- wrk so that it reports at once; done() prints how many responses it saw.
-- Headers (Authorization) come from wrk's -H.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.body = args[1] or ""
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  limit = tonumber(args[2] or "0")
  done_file = args[3]
  responses = 0
  if limit > 0 then
    response = function(status, headers, body)
      responses = responses + 1
      if responses == limit then
        wrk.thread:stop()
        if done_file then
          local marker = io.open(done_file, "w")
          marker:write("done\n")
          marker:close()
        end
      end
    end
  end
end

function done(summary, latency, requests)
  local seen = 0
  local counted = false
  for _, thread in ipairs(threads) do
    if (thread:get("limit") or 0) > 0 then
      counted = true
      seen = seen + thread:get("responses")
    end
  end
  if counted then
    io.write(string.format('BENCH_JSON {"responses": %d}\n', seen))
  end
end
