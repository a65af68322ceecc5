-- grant_type=refresh_token with one pre-minted refresh token per request, never one twice
-- (a second use is refresh-token reuse: the provider would revoke the family).
-- Arguments: TOKEN_FILE (one token a line) [DONE_FILE]. Client authentication comes from
-- wrk's -H. Run with -t1: the thread owns the whole file. When the file runs out the thread
-- stops, writes DONE_FILE so that the harness ends the run there, and done() reports
-- "exhausted"; the few requests asked for after that go to /health and are reported apart
-- ("fillers") so that the harness does not count them as refreshes.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      tokens[#tokens + 1] = line
    end
  end
  available = #tokens
  done_file = args[2]
  used = 0
  exhausted = 0
  fillers = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  if used >= available then
    if exhausted == 0 then
      exhausted = 1
      wrk.thread:stop()
      if done_file then
        local marker = io.open(done_file, "w")
        marker:write("done\n")
        marker:close()
      end
    end
    fillers = fillers + 1
    return wrk.format("GET", "/health", nil, "")
  end
  used = used + 1
  return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. tokens[used])
end

function done(summary, latency, requests)
  local used_total, available_total, fillers_total, exhausted_any = 0, 0, 0, false
  for _, thread in ipairs(threads) do
    used_total = used_total + thread:get("used")
    available_total = available_total + thread:get("available")
    fillers_total = fillers_total + thread:get("fillers")
    exhausted_any = exhausted_any or thread:get("exhausted") == 1
  end
  io.write(string.format(
    'BENCH_JSON {"tokens_used": %d, "tokens_available": %d, "fillers": %d, "exhausted": %s}\n',
    used_total, available_total, fillers_total, tostring(exhausted_any)))
end
