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
  elseif mode == "sleep" then
    nanosleep(3600)
  elseif mode == "blocking-read" then
    -- A blocking socket with nothing to read (the test's): recv waits for ever.
    recv(tonumber(args.fd), buffer(16), 16)
  elseif mode == "pcall-loop" then
    -- A loop that catches the stop raised in it.
    while true do pcall(nanosleep, 3600) end
  elseif mode == "minus-one" then
    return -1
  elseif mode == "errno" then
    local _, err = sendmsg(-1, msg, flags)
    return nil, err
  elseif mode == "blocking-recvmsg" then
    -- The same wait as the hook's tail call: deferred, then made in Lua.
    return recvmsg(tonumber(args.fd), msg, flags)
  end
  return sendmsg(fd, msg, flags)
end)
