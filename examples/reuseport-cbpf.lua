-- reuseport-cbpf.lua: a classic BPF program on the servers' SO_REUSEPORT
-- group picks the socket by CPU: a datagram (UDP) or connection request
-- (TCP) handled on CPU c goes to socket c % 16 of the group (the kernel
-- falls back to its hash when there is no such socket). rushit's
-- reuseport-cbpf.lua built the program with FFI; bpf_prog{} does it in Lua.
--
--   hookperf udp_stream --local -l 1 -T 2 -F 8 -U --reuseport --script examples/reuseport-cbpf.lua
--   hookperf tcp_stream --local -l 1 -T 2 -F 8 -U --script examples/reuseport-cbpf.lua
--   server$ hookperf udp_stream -T 2 --reuseport --script examples/reuseport-cbpf.lua
--   client$ hookperf udp_stream -c -H 127.0.0.1 -T 2 -F 8 -U --reuseport --script examples/reuseport-cbpf.lua
--
-- (-U pins client worker i to CPU i, so each server socket gets one
-- client's datagrams. udp_stream without --reuseport gives each server
-- worker a port of its own: no group to steer.)

local prog = bpf_prog{
  { op = "LD,W,ABS", k = SKF_AD_OFF + SKF_AD_CPU }, -- A = #cpu
  { op = "ALU,MOD,K", k = 16 },                     -- A = A % 16
  { op = "RET,A" },                                 -- return A
}

-- Per worker: whether its socket carries the program, and (server) the
-- peers whose data it read or (client) the CPU each of its flows sent from.
local attached = collect(false)
local peers = collect({}) -- server: ["addr:port"] = reads
local flows = collect({}) -- client: ["addr:port"] = CPU

-- The kernel takes a program before bind(2) only on the socket that founds
-- the group: one that has a program of its own cannot join a group
-- (EADDRINUSE). The kit's workers bind one after the other, so the founder
-- is the one whose address is still free (port 0: one is about to be picked).
local function founds_group(ai)
  if ai.ai_addr.port == 0 then
    return true
  end
  local probe = assert(socket(ai.ai_family, ai.ai_socktype, ai.ai_protocol))
  local free = bind(probe, ai.ai_addr)
  close(probe)
  return free == true
end

server_socket(function(sockfd, ai)
  local ok, err = setsockopt(sockfd, SOL_SOCKET, SO_REUSEPORT, true)
  assert(ok, tostring(err))
  if founds_group(ai) then
    ok, err = setsockopt(sockfd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, prog)
    assert(ok, tostring(err))
    attached = true
  end
end)

server_recvmsg(function(sockfd, msg, flags)
  local n, err = recvmsg(sockfd, msg, flags)
  if n and n > 0 then
    local peer = tostring(msg:name() or getpeername(sockfd)) -- UDP or TCP
    peers[peer] = (peers[peer] or 0) + 1
  end
  return n, err
end)

client_sendmsg(function(sockfd, msg, flags)
  local me = tostring(getsockname(sockfd))
  if not flows[me] then
    flows[me] = getcpu().cpu
  end
  return sendmsg(sockfd, msg, flags)
end)

run()

for i = 1, #attached do
  local list = {}
  for addr, v in pairs(is_server() and peers[i] or flows[i]) do
    list[#list + 1] = addr .. (is_server() and " reads=" or " cpu=") .. v
  end
  table.sort(list)
  print(string.format("%s worker %d: program=%s %s", is_server() and "server" or "client",
                      i, tostring(attached[i]), table.concat(list, ", ")))
end
