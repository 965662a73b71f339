-- The execution order: top level, socket hook, packet hooks, close hook,
-- then the code after run(). Each worker records what it saw.
print("1 top level")
local seen = collect({})

local function note(what)
  if seen[#seen] ~= what then -- runs of one hook count once
    table.insert(seen, what)
  end
end

client_socket(function(fd, ai) note("socket") end)
client_sendmsg(function(fd, msg, flags) note("sendmsg") return sendmsg(fd, msg, flags) end)
client_recvmsg(function(fd, msg, flags) note("recvmsg") return recvmsg(fd, msg, flags) end)
client_close(function(fd, ai) note("close") end)
server_socket(function(fd, ai) note("socket") end)
server_recvmsg(function(fd, msg, flags) note("recvmsg") return recvmsg(fd, msg, flags) end)
server_sendmsg(function(fd, msg, flags) note("sendmsg") return sendmsg(fd, msg, flags) end)
server_close(function(fd, ai) note("close") end)

run()
print("2 after run: " .. #seen .. " workers")
