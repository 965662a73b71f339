-- SO_TIMESTAMPING reports on the error queue, parsed as rushit's
-- tcp-ack-interval.lua does.
local function now() return clock_gettime(CLOCK_REALTIME).sec end

-- check reads one error-queue message and checks its two control
-- messages: the timestamps and the sock_extended_err.
local function check(fd, want_info)
  local n = retry(recvmsg, fd, msg, MSG_ERRQUEUE)
  eq(n, 0, "OPT_TSONLY: no payload")
  eq(bit.band(msg.msg_flags, MSG_ERRQUEUE), MSG_ERRQUEUE, "msg_flags")
  local got = {}
  for _, cmsg in msg:cmsgs() do
    if cmsg.cmsg_level == SOL_SOCKET and cmsg.cmsg_type == SCM_TIMESTAMPING then
      local tss = scm_timestamping_ptr(cmsg.cmsg_data)
      local tv = tss.ts[0]
      assert(math.abs(tv.sec - now()) <= 2, "ts[0].sec " .. tv.sec .. " is now")
      assert(tv.nsec >= 0 and tv.nsec < 1e9, "ts[0].nsec")
      assert(math.abs(tv.time - (tv.sec + tv.nsec / 1e9)) < 1e-6, "ts[0].time")
      eq(tss.ts[1].sec, 0, "ts[1] (deprecated)")
      eq(tss.ts[2].sec, 0, "ts[2] (hardware)")
      fails(function() return tss.ts[3] end, "out of bounds")
      got.ts = tv
    elseif (cmsg.cmsg_level == SOL_IP and cmsg.cmsg_type == IP_RECVERR) or
           (cmsg.cmsg_level == SOL_IPV6 and cmsg.cmsg_type == IPV6_RECVERR) then
      local ee = sock_extended_err_ptr(cmsg.cmsg_data)
      eq(ee.ee_errno, ENOMSG, "ee_errno")
      eq(ee.ee_origin, SO_EE_ORIGIN_TIMESTAMPING, "ee_origin")
      eq(ee.ee_info, want_info, "ee_info")
      got.ee = ee
    end
  end
  assert(got.ts, "SCM_TIMESTAMPING")
  assert(got.ee, "IP_RECVERR")
  return got.ts
end

-- UDP: a software transmit timestamp
local rx, rx_sa = udp()
local tx = udp()
assert(setsockopt(tx, SOL_SOCKET, SO_TIMESTAMPING, bit.bor(
  SOF_TIMESTAMPING_TX_SOFTWARE, SOF_TIMESTAMPING_SOFTWARE, SOF_TIMESTAMPING_OPT_TSONLY)))
eq(getsockopt(tx, SOL_SOCKET, SO_TIMESTAMPING), bit.bor(
  SOF_TIMESTAMPING_TX_SOFTWARE, SOF_TIMESTAMPING_SOFTWARE, SOF_TIMESTAMPING_OPT_TSONLY), "getsockopt")
eq(sendto(tx, "stamp", nil, 0, rx_sa), 5, "sendto")
check(tx, SCM_TSTAMP_SND)

-- TCP: the ACK timestamps of rushit's example, two sends two stamps
local c, s = tcp()
assert(setsockopt(c, SOL_SOCKET, SO_TIMESTAMPING, bit.bor(
  SOF_TIMESTAMPING_SOFTWARE, SOF_TIMESTAMPING_TX_ACK, SOF_TIMESTAMPING_OPT_TSONLY)))
eq(send(c, "one"), 3, "send")
local t1 = check(c, SCM_TSTAMP_ACK)
eq(send(c, "two"), 3, "send")
local t2 = check(c, SCM_TSTAMP_ACK)
assert(t1 <= t2, "ACK timestamps in order")
local _, err = recvmsg(c, msg, MSG_ERRQUEUE)
eq(err.AGAIN, true, "error queue drained")
