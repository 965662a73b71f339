-- check-src-addr.lua: the server accepts datagrams from one source address
-- only, and stops the run with exit status 1 on any other (rushit's
-- check-src-addr.lua with the address as an arg). IPv4 only.
--
--   hookperf udp_stream --local -4 -l 1 --script examples/check-src-addr.lua
--   hookperf udp_stream --local -4 -l 1 --script examples/check-src-addr.lua --script-arg src=127.0.0.2   # exits 1
--   server$ hookperf udp_stream -4 --script examples/check-src-addr.lua --script-arg src=127.0.0.1
--   client$ hookperf udp_stream -4 -c -H 127.0.0.1 -L 127.0.0.2   # the server exits 1
--
-- args.src: the expected source address (default 127.0.0.1).

-- Typed values copy into the workers like numbers, so unlike rushit's
-- script this one builds the address once, at the top level.
local want = in_addr(args.src or "127.0.0.1")

server_socket(function(sockfd, ai)
  if ai.ai_family ~= AF_INET then
    print("check-src-addr.lua works only with IPv4: use -4")
    os.exit(1)
  end
end)

server_recvmsg(function(sockfd, msg, flags)
  -- recvfrom into the hook's buffer, filling sin with the sender's address.
  local iov = msg.msg_iov[0]
  local sin = sockaddr_in()
  local n, err = recvfrom(sockfd, iov.iov_base, iov.iov_len, flags, sin)
  if not n then
    return nil, err -- EAGAIN and friends: the workload decides
  end
  if sin.sin_addr ~= want then
    print("Wrong source address! Expected " .. tostring(want) ..
          ", but got " .. tostring(sin.sin_addr))
    os.exit(1)
  end
  return n
end)
