-- Script code that never ends by itself, where args.at says: the top
-- level ("top"), the top level in a blocking call ("top-sleep"), or the
-- code after run() ("after", "after-sleep").
local at = args.at

if at == "top" then
  while true do end
elseif at == "top-sleep" then
  nanosleep(3600)
end

run()

if at == "after" then
  while true do end
elseif at == "after-sleep" then
  nanosleep(3600)
end
