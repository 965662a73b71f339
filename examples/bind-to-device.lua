-- bind-to-device.lua: the server receives only through one interface
-- (SO_BINDTODEVICE; rushit's bind-to-device.lua with the name as an arg).
--
--   hookperf udp_stream --local -l 1 --script examples/bind-to-device.lua
--   server# hookperf udp_stream --script examples/bind-to-device.lua --script-arg dev=veth0
--   client# hookperf udp_stream -c -H 172.16.1.1
--
-- args.dev: the interface (default "lo"). Binding needs CAP_NET_RAW unless
-- the kernel (5.7+) allows it unprivileged. A client that reaches the server
-- through another interface gets "connection refused".

local dev = args.dev or "lo"

-- What the kernel reports back for each server socket, per worker.
local bound = collect("")

server_socket(function(sockfd)
  local ok, err = setsockopt(sockfd, SOL_SOCKET, SO_BINDTODEVICE, dev)
  assert(ok, "SO_BINDTODEVICE " .. dev .. ": " .. tostring(err))
  bound, err = getsockopt(sockfd, SOL_SOCKET, SO_BINDTODEVICE)
  assert(bound, tostring(err))
end)

run()

if is_server() then
  for i, name in ipairs(bound) do
    print(string.format("worker %d: bound to %q", i, name))
  end
end
