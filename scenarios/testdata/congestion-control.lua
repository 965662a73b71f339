-- congestion-control.lua: chooses the TCP congestion control per socket
-- (TCP_CONGESTION = args.cc, default "reno") in the socket hooks of both
-- sides, overriding the namespace's default (net.ipv4.tcp_congestion_control,
-- which the hooks read first), and reads it back with getsockopt: on the
-- server's listening socket right after setting it, and on every
-- connection socket (the client's connected sockets, the server's accepted
-- ones, which inherit the listener's) at its first read or write.
--
--   hookperf tcp_rr --local -l 1 -F 2 --script scenarios/testdata/congestion-control.lua --script-arg cc=cubic
--
-- Any algorithm in net.ipv4.tcp_available_congestion_control can be set by
-- a process with CAP_NET_ADMIN in the socket's network namespace; others
-- only those in net.ipv4.tcp_allowed_congestion_control (on a kernel whose
-- allowed list is "reno bbr", cubic needs the privilege: root, or the
-- owner of the namespace's user namespace). An algorithm the kernel lacks
-- fails the socket hook, and the run, with the name in the message.

local cc = args.cc or "reno"

local defaults = collect({}) -- both: [algorithm a new socket had] = sockets
local listener = collect("") -- server: the listening socket's algorithm, read back
local conns = collect({})    -- both: [algorithm read back] = connection sockets

local function read_back(sockfd)
  local got, err = getsockopt(sockfd, IPPROTO_TCP, TCP_CONGESTION)
  assert(got, "getsockopt TCP_CONGESTION: " .. tostring(err))
  return got
end

local function choose(sockfd)
  local was = read_back(sockfd)
  defaults[was] = (defaults[was] or 0) + 1
  local ok, err = setsockopt(sockfd, IPPROTO_TCP, TCP_CONGESTION, cc)
  assert(ok, "setsockopt TCP_CONGESTION " .. cc .. ": " .. tostring(err))
end

server_socket(function(sockfd)
  choose(sockfd)
  listener = read_back(sockfd)
end)
client_socket(choose)

-- Connection sockets seen so far (per worker, not collected).
local seen = {}
local function check(sockfd)
  if not seen[sockfd] then
    seen[sockfd] = true
    local got = read_back(sockfd)
    conns[got] = (conns[got] or 0) + 1
  end
end

client_sendmsg(function(sockfd, msg, flags)
  check(sockfd)
  return sendmsg(sockfd, msg, flags)
end)
server_recvmsg(function(sockfd, msg, flags)
  check(sockfd)
  return recvmsg(sockfd, msg, flags)
end)

run()

for i = 1, #conns do
  for name, n in pairs(conns[i]) do
    print(string.format("%s worker %d: %d connection(s) with %s%s", is_server() and "server" or "client",
                        i, n, name, is_server() and ", listener " .. listener[i] or ""))
  end
end
