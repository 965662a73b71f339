-- sendmsg sends the msghdr's buffer (as a packet hook's msg holds the
-- bytes the workload sends).
local rx, rx_sa = udp()
local tx = udp()
assert(connect(tx, rx_sa))
local base = msg.msg_iov[0].iov_base
eq(base:copy("payload"), 7, "copy into the message buffer")
eq(sendmsg(tx, msg, 0), 2048, "sendmsg sends iov_len bytes")
local b = buffer(4096)
eq(retry(recv, rx, b), 2048, "received")
eq(b:string(7), "payload", "bytes")
local _, err = sendmsg(tx, msg, MSG_OOB)
eq(err.OPNOTSUPP, true, "MSG_OOB on UDP")
