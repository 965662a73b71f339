-- drop-count.lua: per-worker counts of received and dropped datagrams, the
-- drops as the kernel reports them with SO_RXQ_OVFL control messages
-- (rushit's drop-count.lua).
--
--   hookperf udp_stream --local -l 1 -F 4 -T 4 -B 64 --script examples/drop-count.lua --script-arg rcvbuf=4096
--   server$ hookperf udp_stream -T 4 --script examples/drop-count.lua
--   client$ hookperf udp_stream -c -H 127.0.0.1 -F 4 -T 4 -B 64
--
-- args.rcvbuf: SO_RCVBUF for the server sockets, in bytes (default: the
-- kernel's); a small one makes drops likely.

local rcvbuf = tonumber(args.rcvbuf)

-- One table per worker.
local stats = collect({ recv_pkts = 0, drop_pkts = 0 })

server_socket(function(sockfd)
  local ok, err = setsockopt(sockfd, SOL_SOCKET, SO_RXQ_OVFL, 1)
  assert(ok, tostring(err))
  if rcvbuf then
    ok, err = setsockopt(sockfd, SOL_SOCKET, SO_RCVBUF, rcvbuf)
    assert(ok, tostring(err))
  end
end)

server_recvmsg(function(sockfd, msg, flags)
  local n, err = recvmsg(sockfd, msg, flags)
  if not n then
    return nil, err
  end
  stats.recv_pkts = stats.recv_pkts + 1
  -- The kernel adds the socket's drop count (a uint32) once it is nonzero.
  local _, cmsg = msg:cmsg_firsthdr()
  if cmsg and cmsg.cmsg_level == SOL_SOCKET and cmsg.cmsg_type == SO_RXQ_OVFL then
    stats.drop_pkts = uint32_ptr(cmsg.cmsg_data)[0]
  end
  return n
end)

run()

if is_server() then
  print(string.format("%10s %12s %12s", "", "Received", "Dropped"))
  local recv, drop = 0, 0
  for i, s in ipairs(stats) do
    print(string.format("%10s %12d %12d", string.format("Thread-%02d:", i), s.recv_pkts, s.drop_pkts))
    recv, drop = recv + s.recv_pkts, drop + s.drop_pkts
  end
  print(string.format("%10s %12d %12d", "Total:", recv, drop))
end
