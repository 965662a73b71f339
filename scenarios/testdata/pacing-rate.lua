-- pacing-rate.lua: caps the pacing rate of every client data socket with
-- SO_MAX_PACING_RATE (args.rate, in bytes per second; none if unset), and
-- reads the cap back on each connected socket at its first write. The
-- run's throughput shows the cap: TCP paces itself (the fq qdisc, where
-- the kernel has it, would pace instead).
--
--   hookperf tcp_stream --local -l 2 --script scenarios/testdata/pacing-rate.lua --script-arg rate=1250000
--   hookperf tcp_stream --local -l 2 -m 10Mb --script scenarios/testdata/pacing-rate.lua
--
-- (1250000 bytes/s is 10 Mbit/s; -m sets the same cap from the command
-- line, and the script then only reads it back.) Over loopback the
-- throughput printed is well above the cap: the first ten segments of a
-- connection are not paced, and loopback's are tens of KiB; and the
-- printed figure also counts what the receiver drained after the stop.
-- Between two namespaces on a veth link the receiver reads at the cap
-- (scenarios/pacing_rate_test.go).

local rate = tonumber(args.rate)

local caps = collect({}) -- client: [cap read back, bytes/s] = connected sockets

client_socket(function(sockfd)
  if rate then
    local ok, err = setsockopt(sockfd, SOL_SOCKET, SO_MAX_PACING_RATE, rate)
    assert(ok, "setsockopt SO_MAX_PACING_RATE " .. rate .. ": " .. tostring(err))
  end
end)

local seen = {} -- connected sockets already read (per worker)
client_sendmsg(function(sockfd, msg, flags)
  if not seen[sockfd] then
    seen[sockfd] = true
    local cap, err = getsockopt(sockfd, SOL_SOCKET, SO_MAX_PACING_RATE)
    assert(cap, "getsockopt SO_MAX_PACING_RATE: " .. tostring(err))
    local key = string.format("%.0f", cap)
    caps[key] = (caps[key] or 0) + 1
  end
  return sendmsg(sockfd, msg, flags)
end)

run()

if is_client() then
  for i = 1, #caps do
    for cap, n in pairs(caps[i]) do
      print(string.format("client worker %d: %d socket(s) paced at most %s bytes/s", i, n, cap))
    end
  end
end
