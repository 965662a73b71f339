-- udp-drops.lua: per server worker, the datagrams received and the
-- datagrams the kernel dropped at the socket, as SO_RXQ_OVFL control
-- messages report them; at close, what the socket still held (read and
-- counted) and its final drop count (SO_MEMINFO), so that
-- received + unread + final_drops = every datagram that reached it.
--
--   hookperf udp_stream --local -l 1 -F 4 -T 2 -B 64 --script scenarios/testdata/udp-drops.lua --script-arg rcvbuf=2048
--   server# ip netns exec server hookperf udp_stream -T 2 --script scenarios/testdata/udp-drops.lua --script-arg rcvbuf=2048
--   client# ip netns exec client hookperf udp_stream -c -H 10.99.0.1 -F 4 -T 2 -B 64
--
-- args.rcvbuf: SO_RCVBUF of the server's sockets in bytes (the kernel
-- doubles it); default: the kernel's.

local rcvbuf = tonumber(args.rcvbuf)

local stats = collect({ received = 0, drops = 0, unread = 0, final_drops = 0 })

-- SO_MEMINFO is an array of uint32: SK_MEMINFO_DROPS is the ninth.
local SK_MEMINFO_VARS, SK_MEMINFO_DROPS = 9, 8

server_socket(function(sockfd)
  local ok, err = setsockopt(sockfd, SOL_SOCKET, SO_RXQ_OVFL, 1)
  assert(ok, "SO_RXQ_OVFL: " .. tostring(err))
  if rcvbuf then
    ok, err = setsockopt(sockfd, SOL_SOCKET, SO_RCVBUF, rcvbuf)
    assert(ok, "SO_RCVBUF: " .. tostring(err))
  end
end)

server_recvmsg(function(sockfd, msg, flags)
  local n, err = recvmsg(sockfd, msg, flags)
  if not n then
    return nil, err
  end
  stats.received = stats.received + 1
  -- Once the socket has dropped anything, each datagram carries the
  -- socket's drop count so far (a uint32).
  for _, cmsg in msg:cmsgs() do
    if cmsg.cmsg_level == SOL_SOCKET and cmsg.cmsg_type == SO_RXQ_OVFL then
      stats.drops = uint32_ptr(cmsg.cmsg_data)[0]
    end
  end
  return n
end)

local scratch = buffer(65536)

server_close(function(sockfd)
  -- What the workload left in the queue, then the drops after the last read.
  while recv(sockfd, scratch, #scratch, MSG_DONTWAIT) do
    stats.unread = stats.unread + 1
  end
  local mem = assert(getsockopt(sockfd, SOL_SOCKET, SO_MEMINFO, 4 * SK_MEMINFO_VARS))
  stats.final_drops = uint32_ptr(mem)[SK_MEMINFO_DROPS]
end)

run()

if is_server() then
  local received, drops = 0, 0
  for _, s in ipairs(stats) do
    received, drops = received + s.received, drops + s.drops
  end
  print(string.format("received %d, dropped %d (SO_RXQ_OVFL)", received, drops))
end
