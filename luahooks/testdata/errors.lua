-- Hooks that fail in the ways a script can: args.mode picks one.
local mode = args.mode

client_sendmsg(function(fd, msg, flags)
  if mode == "runtime" then
    local t = nil
    return t.field -- attempt to index a nil value
  elseif mode == "nothing" then
    sendmsg(fd, msg, flags)
    return
  elseif mode == "string" then
    return "lots"
  elseif mode == "exit" then
    os.exit(3)
  elseif mode == "loop" then
    while true do end
  end
  return sendmsg(fd, msg, flags)
end)
