-- Both forms of collect(): a table that hooks mutate, a variable they
-- reassign; and an upvalue shared by two hooks of one worker.
local stats = collect({ sent = 0, received = 0 })
local last_fd = collect(-1)
local sends = 0 -- shared by the two hooks below, per worker
local seen_by_recv = collect(0)

client_socket(function(fd) last_fd = fd end)
client_sendmsg(function(fd, msg, flags)
  sends = sends + 1
  stats.sent = stats.sent + 1
  return sendmsg(fd, msg, flags)
end)
client_recvmsg(function(fd, msg, flags)
  stats.received = stats.received + 1
  seen_by_recv = sends
  return recvmsg(fd, msg, flags)
end)

run()

local total = 0
for i, s in ipairs(stats) do
  total = total + s.sent
end
print("total sent " .. total .. " by " .. #stats .. " workers")
