client_recvmsg(function(fd, msg, flags) local ok, err = sendmsg(-1, msg, flags) return nil, err end)
