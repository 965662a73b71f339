-- per-worker.lua: each worker counts, from its own hooks, the
-- transactions and bytes it read and the connections it served; after
-- run() every side prints one line per worker.
--
--   hookperf tcp_rr --local -l -800 -T 4 -F 8 --script scenarios/testdata/per-worker.lua
--   server# ip netns exec server hookperf tcp_rr -T 4 --script scenarios/testdata/per-worker.lua
--   client# ip netns exec client hookperf tcp_rr -c -H 10.99.0.1 -l -800 -T 4 -F 8 --script scenarios/testdata/per-worker.lua
--
-- A tcp_rr message fits one read (-Q/-R are small), and each side reads one
-- per transaction: the client a response, the server a request.

-- One table per worker; the hooks of a worker share it and nothing else.
local counts = collect({ transactions = 0, bytes = 0, sockets = 0 })

local seen = {} -- this worker's sockets (upvalue copied per worker)

local function on_recvmsg(sockfd, msg, flags)
  local n, err = recvmsg(sockfd, msg, flags)
  if not n then
    return nil, err
  end
  if not seen[sockfd] then
    seen[sockfd] = true
    counts.sockets = counts.sockets + 1
  end
  if n > 0 then -- 0: the peer closed
    counts.transactions = counts.transactions + 1
    counts.bytes = counts.bytes + n
  end
  return n
end
client_recvmsg(on_recvmsg)
server_recvmsg(on_recvmsg)

run()

local side = is_client() and "client" or "server"
for i, c in ipairs(counts) do
  print(string.format("%s worker %d: %d transactions, %d bytes, %d sockets",
                      side, i, c.transactions, c.bytes, c.sockets))
end
