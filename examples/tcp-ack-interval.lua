-- tcp-ack-interval.lua: the time between consecutive ACKs of the client's
-- data, from SO_TIMESTAMPING TX_ACK timestamps read off the error queue, as
-- a log2 histogram per worker, merged and printed after the run (rushit's
-- tcp-ack-interval.lua).
--
--   hookperf tcp_stream --local -l 1 --script examples/tcp-ack-interval.lua
--   server$ hookperf tcp_stream
--   client$ hookperf tcp_stream -c -H 127.0.0.1 --script examples/tcp-ack-interval.lua

-- Per worker: samples, and hist[b] = intervals in [2^(b-2), 2^(b-1)) us
-- (b = 1: under 1 us).
local acks = collect({ samples = 0, hist = {} })

local last_ts = {} -- per socket (and per worker): the previous ACK, in us

client_socket(function(sockfd)
  local ok, err = setsockopt(sockfd, SOL_SOCKET, SO_TIMESTAMPING,
                             bit.bor(SOF_TIMESTAMPING_SOFTWARE,
                                     SOF_TIMESTAMPING_TX_ACK,
                                     SOF_TIMESTAMPING_OPT_TSONLY))
  assert(ok, tostring(err))
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
      local last = last_ts[sockfd]
      if last then
        local b, upper = 1, 1
        while us - last >= upper do
          b, upper = b + 1, upper * 2
        end
        acks.hist[b] = (acks.hist[b] or 0) + 1
        acks.samples = acks.samples + 1
      end
      last_ts[sockfd] = us
    end
  end
  return n
end)

run()

if is_client() then
  local sum, top, max, samples = {}, 0, 0, 0
  for _, a in ipairs(acks) do
    samples = samples + a.samples
    for b, c in pairs(a.hist) do
      sum[b] = (sum[b] or 0) + c
      top = math.max(top, b)
      max = math.max(max, sum[b])
    end
  end
  print(string.format("%10s .. %-10s: %-10s |%-40s|", ">=", "< [us]", "Count", "Distribution"))
  local lower = 0
  for b = 1, top do
    local upper, c = 2 ^ (b - 1), sum[b] or 0
    print(string.format("%10d -> %-10d: %-10d |%-40s|", lower, upper, c, string.rep("=", math.ceil(40 * c / max))))
    lower = upper
  end
  print(string.format("%d intervals by %d workers", samples, #acks))
end
