-- recvmsg over the worker's msghdr, with control messages: SO_RXQ_OVFL
-- (the drop count, as rushit's drop-count.lua reads it) and IP_PKTINFO.
local rx, rx_sa = udp()
local tx, tx_sa = udp()
assert(connect(tx, rx_sa))
assert(setsockopt(rx, SOL_SOCKET, SO_RXQ_OVFL, 1))
assert(setsockopt(rx, SOL_SOCKET, SO_RCVBUF, 1)) -- the kernel's minimum

eq(msg.msg_iovlen, 1, "msg_iovlen")
eq(msg.msg_controllen, 0, "msg_controllen before")

-- overflow the receive queue
local sent = 64
for _ = 1, sent do assert(send(tx, string.rep("d", 1000))) end
local got = 0
while true do
  local n, err = recvmsg(rx, msg, 0)
  if not n then eq(err.AGAIN, true, "drained"); break end
  eq(n, 1000, "datagram size")
  got = got + 1
end
assert(got > 0 and got < sent, "some datagrams dropped: " .. got .. " of " .. sent)

-- the next datagram carries the drop count
assert(setsockopt(rx, SOL_IP, IP_PKTINFO, 1))
eq(send(tx, "last"), 4, "send")
local n = retry(recvmsg, rx, msg, 0)
eq(n, 4, "recvmsg")
eq(msg.msg_iov[0].iov_base:string(4), "last", "payload")
assert(msg.msg_controllen > 0, "msg_controllen")
eq(msg.msg_flags, 0, "msg_flags")
local from = msg:name()
eq(from.port, tx_sa.port, "msg:name() is the sender")

local seen = {}
local count = 0
for pos, cmsg in msg:cmsgs() do
  count = count + 1
  eq(type(pos), "number", "position")
  eq(cmsg:len(), cmsg.cmsg_len, "len()")
  eq(cmsg:datalen(), #cmsg:data(), "datalen() and data()")
  if cmsg.cmsg_level == SOL_SOCKET and cmsg.cmsg_type == SO_RXQ_OVFL then
    eq(cmsg:datalen(), 4, "SO_RXQ_OVFL data length")
    seen.drops = tonumber(uint32_ptr(cmsg.cmsg_data)[0])
    eq(uint32_ptr(cmsg:data())[0], seen.drops, "uint32_ptr of data()")
    fails(function() return uint32_ptr(cmsg.cmsg_data)[1] end, "out of bounds")
  elseif cmsg.cmsg_level == SOL_IP and cmsg.cmsg_type == IP_PKTINFO then
    local pi = in_pktinfo_ptr(cmsg.cmsg_data)
    seen.ifindex = pi.ipi_ifindex
    eq(uint32_ptr(cmsg.cmsg_data)[0], pi.ipi_ifindex, "uint32_ptr reads ipi_ifindex")
    eq(pi.ipi_addr, in_addr("127.0.0.1"), "ipi_addr (destination)")
    eq(tostring(pi.ipi_spec_dst), "127.0.0.1", "ipi_spec_dst")
  end
end
eq(count, 2, "control messages")
eq(seen.drops, sent - got, "SO_RXQ_OVFL drop count")
eq(seen.ifindex, if_nametoindex("lo"), "IP_PKTINFO ifindex")

-- cmsg_firsthdr and cmsg_nxthdr walk the same messages
local pos, first = msg:cmsg_firsthdr()
eq(pos, 0, "first position")
local p2, second = msg:cmsg_nxthdr(pos, first)
assert(second and p2 > pos, "second")
local p3, third = msg:cmsg_nxthdr(p2, second)
eq(third, nil, "no third")
local i = 0
for p, c in msg:cmsgs() do
  i = i + 1
  if i == 1 then eq(c, first, "same object") eq(p, pos, "same position") end
  if i == 2 then eq(c.cmsg_type, second.cmsg_type, "same order") end
end
fails(function() first.cmsg_level = 1 end, "read-only")

-- a datagram without control messages
assert(setsockopt(rx, SOL_IP, IP_PKTINFO, 0))
assert(setsockopt(rx, SOL_SOCKET, SO_RXQ_OVFL, 0))
eq(send(tx, "plain"), 5, "send")
eq(retry(recvmsg, rx, msg, 0), 5, "recvmsg")
eq(msg.msg_controllen, 0, "no control data")
local _, none = msg:cmsg_firsthdr()
eq(none, nil, "no cmsg")
for _ in msg:cmsgs() do error("no cmsg expected") end

-- truncation: a datagram larger than the buffer
eq(send(tx, string.rep("t", 3000)), 3000, "send")
eq(retry(recvmsg, rx, msg, 0), 2048, "recvmsg truncates")
eq(bit.band(msg.msg_flags, MSG_TRUNC), MSG_TRUNC, "MSG_TRUNC")

-- errors come back as nil, err
local n, err = recvmsg(rx, msg, 0)
eq(n, nil, "empty queue"); eq(err.AGAIN, true, "EAGAIN")
local _, err = recvmsg(-1, msg, 0)
eq(err.BADF, true, "EBADF")
