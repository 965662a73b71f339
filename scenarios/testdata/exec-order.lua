-- exec-order.lua: the order in which the top level, the hooks and the code
-- after run() execute, recorded per worker (rushit's tests/func/exec-order.lua
-- collected instead of printed). Runs of one hook are recorded once.
--
--   hookperf tcp_rr --local -l -3 --script scenarios/testdata/exec-order.lua
--   hookperf dummy_test --local -l 1 -T 2 -F 2 --script scenarios/testdata/exec-order.lua
--     (rushit's canned events, recverr included)
--   server# ip netns exec server hookperf tcp_rr --script scenarios/testdata/exec-order.lua
--   client# ip netns exec client hookperf tcp_rr -c -H 10.99.0.1 -l -3 --script scenarios/testdata/exec-order.lua
--
-- Expected, per worker: "top level", "before run()", then the socket hook,
-- the packet hooks in the side's order (client: sendmsg, recvmsg; server:
-- recvmsg, sendmsg), the close hook, and what the code after run() added.

-- The top level's own record; each worker starts from a copy of it as it
-- is when run() is called.
local log = { "top level" }
local order = collect(log)

local function note(what)
  if order[#order] ~= what then
    order[#order + 1] = what
  end
end

client_socket(function() note("socket") end)
client_sendmsg(function(fd, msg, flags) note("sendmsg") return sendmsg(fd, msg, flags) end)
client_recvmsg(function(fd, msg, flags) note("recvmsg") return recvmsg(fd, msg, flags) end)
client_recverr(function(fd, msg, flags) note("recverr") return recvmsg(fd, msg, flags) end)
client_close(function() note("close") end)

server_socket(function() note("socket") end)
server_recvmsg(function(fd, msg, flags) note("recvmsg") return recvmsg(fd, msg, flags) end)
server_sendmsg(function(fd, msg, flags) note("sendmsg") return sendmsg(fd, msg, flags) end)
server_recverr(function(fd, msg, flags) note("recverr") return recvmsg(fd, msg, flags) end)
server_close(function() note("close") end)

log[#log + 1] = "before run()" -- still the top level: in every worker's copy

run()

-- After run(): order holds every worker's final record; the top level's
-- own log is as it was (the hooks ran on copies).
for _, o in ipairs(order) do
  o[#o + 1] = string.format("after run(): %d entries, top level's log has %d", #o, #log)
end
for i, o in ipairs(order) do
  print((is_client() and "client" or "server") .. " worker " .. i .. ": " .. table.concat(o, ", "))
end
