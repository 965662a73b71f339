-- Counts each side's packet hook calls per worker.
local calls = collect(0)
local function count(fd, msg, flags)
  calls = calls + 1
  return recvmsg(fd, msg, flags)
end
client_recvmsg(count)
server_recvmsg(count)
