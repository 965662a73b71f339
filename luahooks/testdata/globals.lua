-- Hooks see the script's globals and upvalues as they were at run(), in
-- their own worker's copy; a later change in the main script is not seen.
config = { size = 7, name = "before" }
local limit = 3
local seen = collect({})

client_socket(function(fd, ai)
  seen.size = config.size
  seen.name = config.name
  seen.limit = limit
  seen.family = ai.ai_family == AF_INET
  config.size = config.size + 1 -- the worker's own copy
end)

run()
config.name = "after"
print(config.size, seen[1].size, seen[1].name, seen[1].limit, tostring(seen[1].family))
