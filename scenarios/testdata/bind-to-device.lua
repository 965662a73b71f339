-- bind-to-device.lua: the server's data sockets take traffic from one
-- interface only (SO_BINDTODEVICE), and each server worker collects the
-- name the kernel reads back.
--
--   hookperf tcp_rr --local -l 1 --script scenarios/testdata/bind-to-device.lua --script-arg dev=lo
--   server# ip netns exec server hookperf tcp_rr --script scenarios/testdata/bind-to-device.lua --script-arg dev=veth0
--   client# ip netns exec client hookperf tcp_rr -c -H 10.99.0.1
--
-- args.dev: the interface (required). Only the data sockets are bound: the
-- control connection still reaches the server any way, so a client that
-- comes in on another interface connects, and then its flows find no one
-- (TCP: connection refused; UDP: nothing arrives). A client on the
-- server's own host is not such a client: its packets to veth0's address
-- travel over lo, but the kernel counts them as veth0's.

local dev = args.dev
assert(dev, "--script-arg dev=IFNAME: the interface to bind to")

-- Per server worker: the device its data socket is bound to, as read back.
local bound = collect("")

server_socket(function(sockfd)
  local ok, err = setsockopt(sockfd, SOL_SOCKET, SO_BINDTODEVICE, dev)
  assert(ok, "SO_BINDTODEVICE " .. dev .. ": " .. tostring(err))
  bound, err = getsockopt(sockfd, SOL_SOCKET, SO_BINDTODEVICE)
  assert(bound, "getsockopt SO_BINDTODEVICE: " .. tostring(err))
end)

run()

if is_server() then
  for i, name in ipairs(bound) do
    print(string.format("server worker %d: bound to %q", i, name))
  end
end
