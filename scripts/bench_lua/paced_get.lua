-- GET the URL's path at a low, steady rate: each connection waits PAUSE_MS between requests.
-- Used to sample /jwks latency while logins load the server. Argument: PAUSE_MS (default 20).

function init(args)
  pause = tonumber(args[1] or "20")
end

function delay()
  return pause
end
