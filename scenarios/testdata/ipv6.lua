-- ipv6.lua: which family the workload's sockets are, and who the server
-- hears from. Both sides collect the family of each data socket their
-- socket hooks see (ai.ai_family: AF_INET6 = 10 when the client was given
-- an IPv6 address, or -6); the server collects the family and address of
-- the peer of every read: the datagram's source (recvmsg's msg_name) over
-- UDP, getpeername over TCP; and, over UDP, where its responses go
-- (sendmsg's msg_name).
--
--   hookperf tcp_rr --local -6 -l 1 --script scenarios/testdata/ipv6.lua
--   hookperf udp_rr --local -6 -l 1 --script scenarios/testdata/ipv6.lua
--   server$ hookperf udp_rr --script scenarios/testdata/ipv6.lua
--   client$ hookperf udp_rr -c -H fd00:99::1 -l 1 --script scenarios/testdata/ipv6.lua

local families = collect({}) -- both: [ai_family] = sockets
local peers = collect({})    -- server: ["family address"] = reads
local replies = collect({})  -- server, UDP: ["family address"] = responses sent there

local function opened(sockfd, ai)
  local f = tostring(ai.ai_family)
  families[f] = (families[f] or 0) + 1
end
client_socket(opened)
server_socket(opened)

server_recvmsg(function(sockfd, msg, flags)
  local n, err = recvmsg(sockfd, msg, flags)
  if n and n > 0 then
    local sa = msg:name() or assert(getpeername(sockfd))
    local key = sa.family .. " " .. sa.address
    peers[key] = (peers[key] or 0) + 1
  end
  return n, err
end)

-- (udp_rr also needs this hook as long as the kit answers a hooked
-- recvmsg only through a sendmsg hook: without one the responses go
-- nowhere.)
server_sendmsg(function(sockfd, msg, flags)
  local sa = msg:name()
  if sa then
    local key = sa.family .. " " .. sa.address
    replies[key] = (replies[key] or 0) + 1
  end
  return sendmsg(sockfd, msg, flags)
end)

run()

if is_server() then
  for i = 1, #peers do
    for key, n in pairs(peers[i]) do
      print(string.format("server worker %d: %d read(s) from family/address %s", i, n, key))
    end
    for key, n in pairs(replies[i]) do
      print(string.format("server worker %d: %d response(s) to family/address %s", i, n, key))
    end
  end
end
