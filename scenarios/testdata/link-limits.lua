-- link-limits.lua: what a TCP connection learns from the link it runs
-- over. At the first read or write of each connection socket, both sides
-- read the segment size the connection settled on: TCP_MAXSEG, and
-- tcpi_snd_mss from TCP_INFO (the payload of a full segment: the link's
-- MTU less the IP and TCP headers and the timestamp option, 1280 - 20 -
-- 20 - 12 = 1228 over IPv4 on a 1280-byte link). The link's rate limit
-- (a tbf qdisc) shows in the run's throughput, not in the script.
--
--   hookperf tcp_stream --local -l 1 --script scenarios/testdata/link-limits.lua
--   # between two hosts, or two namespaces, on a link set up with e.g.
--   #   ip link set dev veth0 mtu 1280
--   #   tc qdisc replace dev veth0 root tbf rate 20mbit burst 32kb latency 50ms
--   server$ hookperf tcp_stream --script scenarios/testdata/link-limits.lua
--   client$ hookperf tcp_stream -c -H 10.99.0.1 -l 2 --script scenarios/testdata/link-limits.lua

-- Both sides, per worker: ["TCP_MAXSEG/tcpi_snd_mss"] = connection sockets.
local mss = collect({})

local seen = {} -- connection sockets already read (per worker)
local function read_mss(sockfd)
  if seen[sockfd] then
    return
  end
  seen[sockfd] = true
  local maxseg, err = getsockopt(sockfd, IPPROTO_TCP, TCP_MAXSEG)
  assert(maxseg, "getsockopt TCP_MAXSEG: " .. tostring(err))
  local info, ierr = getsockopt(sockfd, IPPROTO_TCP, TCP_INFO)
  assert(info, "getsockopt TCP_INFO: " .. tostring(ierr))
  local key = maxseg .. "/" .. info.tcpi_snd_mss
  mss[key] = (mss[key] or 0) + 1
end

client_sendmsg(function(sockfd, msg, flags)
  read_mss(sockfd)
  return sendmsg(sockfd, msg, flags)
end)
server_recvmsg(function(sockfd, msg, flags)
  read_mss(sockfd)
  return recvmsg(sockfd, msg, flags)
end)

run()

for i = 1, #mss do
  for key, n in pairs(mss[i]) do
    print(string.format("%s worker %d: %d connection(s) with TCP_MAXSEG/tcpi_snd_mss %s",
                        is_server() and "server" or "client", i, n, key))
  end
end
