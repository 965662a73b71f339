-- ack-interval.lua: the time between consecutive ACKs of the client's
-- data, per socket, from SO_TIMESTAMPING TX_ACK timestamps read off the
-- error queue, as a log2 histogram collected per worker.
--
--   hookperf tcp_stream --local -l 1 -T 2 -F 2 --script scenarios/testdata/ack-interval.lua
--   server# ip netns exec server hookperf tcp_stream -T 2
--   client# ip netns exec client hookperf tcp_stream -c -H 10.99.0.1 -T 2 -F 2 --script scenarios/testdata/ack-interval.lua
--
-- Per client worker: hist[k] counts the intervals in [k/2, k) us (k a power
-- of two; hist[1]: under 1 us); stamps is the timestamps read, sockets the
-- sockets they came from, span_us the time from each socket's first
-- timestamp to its last, added up.
local acks = collect({ hist = {}, stamps = 0, sockets = 0, span_us = 0 })

local first, last = {}, {} -- per socket of this worker: timestamps in us

client_socket(function(sockfd)
  local ok, err = setsockopt(sockfd, SOL_SOCKET, SO_TIMESTAMPING,
                             bit.bor(SOF_TIMESTAMPING_SOFTWARE,
                                     SOF_TIMESTAMPING_TX_ACK,
                                     SOF_TIMESTAMPING_OPT_TSONLY))
  assert(ok, "SO_TIMESTAMPING: " .. tostring(err))
end)

client_recverr(function(sockfd, msg, flags)
  local n, err = recvmsg(sockfd, msg, flags)
  if not n then
    return nil, err -- EAGAIN: the error queue is empty
  end
  for _, cmsg in msg:cmsgs() do
    if cmsg.cmsg_level == SOL_SOCKET and cmsg.cmsg_type == SCM_TIMESTAMPING then
      local ts = scm_timestamping_ptr(cmsg.cmsg_data).ts[0] -- the software stamp
      local us = ts.sec * 1e6 + ts.nsec / 1e3
      acks.stamps = acks.stamps + 1
      local prev = last[sockfd]
      if prev then
        local k = 1
        while us - prev >= k do
          k = k * 2
        end
        acks.hist[k] = (acks.hist[k] or 0) + 1
        acks.span_us = acks.span_us + (us - prev)
      else
        acks.sockets = acks.sockets + 1
      end
      last[sockfd] = us
    end
  end
  return n
end)

run()

if is_client() then
  local total, samples = {}, 0
  for _, a in ipairs(acks) do
    for k, c in pairs(a.hist) do
      total[k] = (total[k] or 0) + c
      samples = samples + c
    end
  end
  local keys = {}
  for k in pairs(total) do
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    print(string.format("%8g .. %-8g us: %d", k == 1 and 0 or k / 2, k, total[k]))
  end
  print(string.format("%d intervals by %d workers", samples, #acks))
end
