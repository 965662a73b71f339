-- source-address.lua: the server checks the source address of every
-- datagram it reads (recvfrom in a server_recvmsg hook) and ends the run
-- with exit status 1 at the first one from elsewhere. IPv4 (use -4).
--
--   hookperf udp_stream --local -4 -l 1 --script scenarios/testdata/source-address.lua --script-arg src=127.0.0.1
--   server# ip netns exec server hookperf udp_stream -4 --script scenarios/testdata/source-address.lua --script-arg src=10.99.0.2
--   client# ip netns exec client hookperf udp_stream -4 -c -H 10.99.0.1
--
-- args.src: the only source address the server accepts (required).

assert(args.src, "--script-arg src=ADDRESS: the expected source address")
local want = in_addr(args.src)

-- Per server worker: how many datagrams passed the check.
local checked = collect(0)

-- The sender's address, filled by recvfrom; made once (typed values copy
-- into each worker like numbers), refilled for each datagram.
local from = sockaddr_in()

server_recvmsg(function(sockfd, msg, flags)
  local iov = msg.msg_iov[0]
  local n, err = recvfrom(sockfd, iov.iov_base, iov.iov_len, flags, from)
  if not n then
    return nil, err -- EAGAIN and friends: the kit decides
  end
  if from.sin_family ~= AF_INET or from.sin_addr ~= want then
    local got = from.sin_family == AF_INET and tostring(from.sin_addr) or tostring(from)
    print("source address check: expected " .. tostring(want) .. ", got " .. got)
    os.exit(1)
  end
  checked = checked + 1
  return n
end)

run()

if is_server() then
  local total = 0
  for _, n in ipairs(checked) do
    total = total + n
  end
  print("source address check: " .. total .. " datagrams from " .. tostring(want))
end
