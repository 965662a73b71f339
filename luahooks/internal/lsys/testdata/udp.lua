-- sendto/recvfrom between two UDP sockets over loopback; the address
-- objects are filled with what the kernel reports.
local rx, rx_sa = udp()
local tx, tx_sa = udp()
eq(rx_sa.family, AF_INET, "rx family")
assert(rx_sa.port > 0 and rx_sa.port ~= tx_sa.port, "ports")

eq(sendto(tx, "hello", 5, 0, sockaddr_in(rx_sa.port, "127.0.0.1")), 5, "sendto")
local iov = msg.msg_iov[0]
local buf, len = iov.iov_base, iov.iov_len
eq(len, 2048, "iov_len")
eq(#buf, 2048, "#iov_base")
local sin = sockaddr_in()
local n, err, sa = retry(recvfrom, rx, buf, len, 0, sin)
eq(n, 5, "recvfrom n"); eq(err, nil, "recvfrom err"); eq(sa, sin, "sa is the object given")
eq(sin.sin_family, AF_INET, "sin_family")
eq(sin.port, tx_sa.port, "sender port")
eq(sin.sin_port, tx_sa.port, "sin_port (host order)")
eq(tostring(sin.sin_addr), "127.0.0.1", "sender address")
eq(sin.sin_addr.s_addr, in_addr("127.0.0.1").s_addr, "s_addr")
eq(buf:string(5), "hello", "payload in the message buffer")
eq(buf[0], string.byte("h"), "buf[0]")

-- a sockaddr_storage receives either family; nil makes one; false none.
eq(send(tx, "x", 1, 0), nil, "send on an unconnected socket fails")
assert(connect(tx, rx_sa))
eq(send(tx, "abc"), 3, "send")
local ss = sockaddr_storage()
eq(ss.family, AF_UNSPEC, "empty storage")
local n, _, sa = retry(recvfrom, rx, buf, nil, nil, ss)
eq(n, 3, "n"); eq(sa.family, AF_INET, "family"); eq(sa.port, tx_sa.port, "port")
eq(sa, getsockname(tx), "sockaddr ==")
eq(write(tx, "defg"), 4, "write")
local n, _, sa = retry(recvfrom, rx, buffer(10))
eq(n, 4, "n"); eq(sa.port, tx_sa.port, "a new sockaddr")
eq(send(tx, "hij", 3, MSG_DONTWAIT), 3, "send with flags")
local n, a, b = retry(recvfrom, rx, buffer(10), 10, 0, false)
eq(n, 3, "n"); eq(a, nil, "no address"); eq(b, nil, "no address")

-- recv with MSG_PEEK leaves the datagram; MSG_TRUNC reports its length
eq(send(tx, "0123456789"), 10, "send")
local small = buffer(4)
eq(retry(recv, rx, small, 4, MSG_PEEK), 4, "peek")
eq(recv(rx, small, 4, bit.bor(MSG_TRUNC, MSG_PEEK)), 10, "MSG_TRUNC")
eq(read(rx, small), 4, "read")
eq(small:string(), "0123", "bytes")
local _, err = recv(rx, small)
eq(err.AGAIN, true, "queue empty")

-- a closed peer: ECONNREFUSED comes back on the next call
assert(connect(tx, sockaddr_in(1, "127.0.0.1")))
send(tx, "x")
local _, err = retry(recv, tx, small)
eq(err.CONNREFUSED, true, "ECONNREFUSED: " .. tostring(err))
