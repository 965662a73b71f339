-- collect-values.lua: values flow from the workers to the script with
-- collect(): each worker records the fd of its socket, and after run() the
-- script reads one entry per worker (rushit's collect-values.lua).
--
--   hookperf tcp_stream --local -l 1 -F 4 -T 4 --script examples/collect-values.lua
--   server$ hookperf tcp_stream -T 5 --script examples/collect-values.lua
--   client$ hookperf tcp_stream -c -H 127.0.0.1 -l 2 -F 10 -T 10 --script examples/collect-values.lua
--
-- A TCP server's socket hook sees its worker's listening socket; a client's
-- sees each flow's socket (the last one stays when a worker has several).

-- A wrapper: each worker starts with its own copy of -1.
local sockfd = collect(-1)

local function on_socket(fd)
  sockfd = fd -- this worker's copy
end
client_socket(on_socket)
server_socket(on_socket)

run()

-- Now sockfd is a table: { worker 1's fd, worker 2's fd, ... }.
local side = is_client() and "client" or "server"
io.write(side, " fds:")
for _, fd in ipairs(sockfd) do
  io.write(" ", fd)
end
io.write("\n")
