-- bench/realistic-hooks.lua — hooks that do what a measuring script does on
-- every call, for `SCRIPT=bench/realistic-hooks.lua make bench-hooks` and
-- the luahooks benchmarks: a receive hook that counts calls and bytes in a
-- collected table and looks for a control message (SO_RXQ_OVFL, as
-- rushit's drop-count.lua reads it), and a pass-through send hook. rushit
-- runs it unchanged.
local stats = collect({ calls = 0, bytes = 0, drops = 0 })

local function recv(fd, msg, flags)
  local n, err = recvmsg(fd, msg, flags)
  if not n then return nil, err end
  stats.calls = stats.calls + 1
  stats.bytes = stats.bytes + n
  local _, cmsg = msg:cmsg_firsthdr()
  if cmsg and cmsg.cmsg_level == SOL_SOCKET and cmsg.cmsg_type == SO_RXQ_OVFL then
    stats.drops = uint32_ptr(cmsg.cmsg_data)[0]
  end
  return n
end

local function send(fd, msg, flags) return sendmsg(fd, msg, flags) end

client_recvmsg(recv) server_recvmsg(recv)
client_sendmsg(send) server_sendmsg(send)
