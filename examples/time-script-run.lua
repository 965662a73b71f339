-- time-script-run.lua: the script starts the run itself with run() and
-- times it (rushit's time-script-run.lua).
--
--   hookperf tcp_stream --local -l 2 --script examples/time-script-run.lua > /dev/null
--   server$ hookperf tcp_stream > /dev/null
--   client$ hookperf tcp_stream -c -H 127.0.0.1 -l 7 --script examples/time-script-run.lua > /dev/null

local t_start = os.time()

run()

local side = is_client() and "client" or "server"
io.stderr:write(side .. ": script ran for " .. os.time() - t_start .. " seconds.\n")
