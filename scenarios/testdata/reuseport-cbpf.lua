-- reuseport-cbpf.lua: a classic BPF program on the server's SO_REUSEPORT
-- group decides which server socket gets each datagram (UDP) or connection
-- (TCP), deterministically. The program's result is an index into the
-- group, where the sockets sit in the order they joined: worker order.
--
--   args.steer = "0", "1"...  the program is RET #n: everything to server worker n+1
--   args.steer = "tag"        (udp_stream) RET (first payload byte & 1): each
--                             client datagram carries a tag byte, 0 and 1 in
--                             turn, and server worker tag+1 gets it
--
--   hookperf udp_stream --local -l 1 -T 2 -F 4 -B 1400 --reuseport --script scenarios/testdata/reuseport-cbpf.lua --script-arg steer=1
--   hookperf tcp_stream --local -l 1 -T 2 -F 4 --script scenarios/testdata/reuseport-cbpf.lua --script-arg steer=0
--   hookperf udp_stream --local -l 1 -T 2 -F 4 -B 1400 --reuseport --script scenarios/testdata/reuseport-cbpf.lua --script-arg steer=tag
--
-- (TCP listeners always share the port; UDP server workers share it only
-- with --reuseport.)

local steer = args.steer or "0"
local prog
if steer == "tag" then
  prog = bpf_prog{
    { op = "LD,B,ABS", k = 0 },  -- A = first byte of the UDP payload
    { op = "ALU,AND,K", k = 1 }, -- A = A & 1
    { op = "RET,A" },            -- to socket A
  }
else
  prog = bpf_prog{ { op = "RET,K", k = assert(tonumber(steer), "steer: a socket index or \"tag\"") } }
end

local attached = collect(false) -- server: this worker's socket carries the program
local reads = collect(0)        -- server: reads that returned data
local tags = collect({})        -- server: ["tag"] = datagrams read with it (steer=tag)
local sent = 0                  -- client: datagrams tagged so far (per worker)

-- Only the socket that founds the group may carry a program before
-- bind(2) (one with a program of its own cannot join a group: EADDRINUSE).
-- The workers bind one after the other, so the founder is the one whose
-- address is still free.
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
    assert(ok, "SO_ATTACH_REUSEPORT_CBPF: " .. tostring(err))
    attached = true
  end
end)

server_recvmsg(function(sockfd, msg, flags)
  local n, err = recvmsg(sockfd, msg, flags)
  if n and n > 0 then
    reads = reads + 1
    if steer == "tag" then
      local tag = tostring(msg.msg_iov[0].iov_base[0])
      tags[tag] = (tags[tag] or 0) + 1
    end
  end
  return n, err
end)

client_sendmsg(function(sockfd, msg, flags)
  if steer == "tag" then
    msg.msg_iov[0].iov_base[0] = sent % 2
    sent = sent + 1
  end
  return sendmsg(sockfd, msg, flags)
end)

run()

if is_server() then
  for i = 1, #reads do
    print(string.format("server worker %d: program=%s reads=%d", i, tostring(attached[i]), reads[i]))
  end
end
