-- Classic BPF, the Lua equivalent of rushit's reuseport-cbpf.lua: the
-- kernel accepts the programs and runs them.
local function reuseport_pair()
  local a = track(assert(socket(AF_INET, "dgram, nonblock", 0)))
  assert(setsockopt(a, SOL_SOCKET, SO_REUSEPORT, true))
  assert(bind(a, sockaddr_in(0, "127.0.0.1")))
  local port = getsockname(a).port
  local b = track(assert(socket(AF_INET, "dgram, nonblock", 0)))
  assert(setsockopt(b, SOL_SOCKET, SO_REUSEPORT, true))
  assert(bind(b, sockaddr_in(port, "127.0.0.1")))
  return a, b, port
end

local function count(fd)
  local n = 0
  while recv(fd, buffer(16)) do n = n + 1 end
  return n
end

-- rushit's program: steer by CPU
local group_size = 16
local cpu_prog = bpf_prog{
  {op = "LD,W,ABS", k = SKF_AD_OFF + SKF_AD_CPU}, -- A = #cpu
  {op = "ALU,MOD,K", k = group_size},             -- A = A % group_size
  {op = "RET,A"},                                 -- return A
}
local a, b, port = reuseport_pair()
eq(setsockopt(a, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, cpu_prog), true, "SO_ATTACH_REUSEPORT_CBPF")

-- a program returning 1 sends every datagram to the group's second socket
eq(setsockopt(a, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, bpf_prog{ {op = "RET,K", k = 1} }), true, "attach")
local tx = udp()
for _ = 1, 20 do assert(sendto(tx, "x", 1, 0, sockaddr_in(port, "127.0.0.1"))) end
nanosleep(0.01)
eq(count(a), 0, "first socket")
eq(count(b), 20, "second socket")
-- and 0 to the first, given as a list of instructions
assert(setsockopt(b, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, { {"RET,K", 0} }))
for _ = 1, 20 do assert(sendto(tx, "x", 1, 0, sockaddr_in(port, "127.0.0.1"))) end
nanosleep(0.01)
eq(count(a), 20, "first socket")
eq(count(b), 0, "second socket")

-- SO_ATTACH_FILTER: drop all, then accept all
local rx, rx_sa = udp()
assert(setsockopt(rx, SOL_SOCKET, SO_ATTACH_FILTER, bpf_prog{ {op = "RET,K", k = 0} }))
eq(sendto(tx, "dropped", nil, 0, rx_sa), 7, "sendto")
nanosleep(0.01)
eq(count(rx), 0, "filtered out")
assert(setsockopt(rx, SOL_SOCKET, SO_ATTACH_FILTER, bpf_prog{
  {op = "LD,W,LEN"},                       -- A = packet length
  {op = "JMP,JGE,K", k = 100, jt = 0, jf = 1},
  {op = "RET,K", k = 0},                   -- >= 100 bytes: drop
  {op = "RET,K", k = 0xffffffff},          -- else accept
}))
eq(sendto(tx, "small", nil, 0, rx_sa), 5, "small")
eq(sendto(tx, string.rep("b", 200), nil, 0, rx_sa), 200, "big")
nanosleep(0.01)
eq(count(rx), 1, "only the small datagram passes")

-- a prog is not a value for other options
fails(function() setsockopt(rx, SOL_SOCKET, SO_RCVBUF, cpu_prog) end, "a bpf_prog goes with")
