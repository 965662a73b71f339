// Package lsys is the socket layer of hookperf's Lua scripts: the subset of
// ljsyscall (https://github.com/justincormack/ljsyscall) that rushit's
// scripts use, with rushit's globals, for gopher-lua.
//
// The engine calls Open once per Lua state, NewMsg once per worker (the
// msghdr every packet hook gets), NewAddrInfo for socket hooks, Errno to
// read the errno of a hook's `nil, err`, and Int to box numbers without
// allocating. Typed values are userdata whose Value has
// CopyTo(*lua.LState) lua.LValue, so they can be copied between states.
//
// # Lua API
//
// Everything is in the module table S (also require("syscall")) and, as
// rushit's prelude made it, global: functions under their names,
// constants as C names them, types as in rushit (in_addr, sockaddr_in,
// uint32_ptr...).
//
// Conventions (ljsyscall's): a call returns its result (a number, an
// object, or true) or nil, err. err is an error object: tostring(err) is
// the strerror text ("bad file descriptor"), err.errno the number,
// err.sym the name ("EBADF"), err.lsym in lower case, and err.BADF,
// err.AGAIN, err.EAGAIN... are true when the errno is that one, false
// otherwise (an unknown name is an error). Error objects of one errno are
// one object per state, so == works. File descriptors are plain numbers.
// Constant arguments take a number or ljsyscall's names: socket("inet",
// "dgram, nonblock"), getsockopt(fd, "socket", "type").
//
// Sockets:
//
//	socket(domain, type[, protocol]) → fd
//	socketpair(domain, type[, protocol]) → true, nil, fd1, fd2
//	bind(fd, sa[, len]), connect(fd, sa[, len]), listen(fd[, backlog]) → true
//	accept(fd[, sa]) → fd;  accept4(fd, sa, addrlen, flags) → fd (addrlen ignored)
//	close(fd), shutdown(fd, how) → true
//	getsockname(fd[, sa]), getpeername(fd[, sa]) → sa (a new sockaddr_storage by default)
//	getsockopt(fd, level, name) → an integer for integer options;
//	    a string for SO_BINDTODEVICE, TCP_CONGESTION, TCP_ULP;
//	    a table for TCP_INFO (tcpi_state, tcpi_rtt, tcpi_rttvar, tcpi_snd_cwnd,
//	    tcpi_retransmits, tcpi_total_retrans, tcpi_bytes_acked... every field of
//	    struct tcp_info the kernel fills, named as in C), SO_LINGER (l_onoff,
//	    l_linger), SO_PEERCRED (pid, uid, gid);
//	    a timeval for SO_RCVTIMEO/SO_SNDTIMEO; 64 bits for SO_MAX_PACING_RATE, SO_COOKIE
//	getsockopt(fd, level, name, len) → the raw bytes as a string
//	setsockopt(fd, level, name, value[, len]) → true: value is a number or a
//	    boolean (a C int; beyond 32 bits, or with len 8, a 64-bit value), a string
//	    (its bytes, the first len if given: SO_BINDTODEVICE, TCP_CONGESTION), a
//	    bpf_prog or a list of instructions (SO_ATTACH_FILTER,
//	    SO_ATTACH_REUSEPORT_CBPF), {l_onoff=, l_linger=} (SO_LINGER), seconds or a
//	    timeval (SO_RCVTIMEO, SO_SNDTIMEO), or a typed value sent as its bytes
//	    (timeval, timespec, in_addr, in6_addr, sockaddr, buffer)
//	fcntl(fd, cmd[, arg]) → the value for F_GET*, F_DUPFD*, else true
//	nonblock(fd), block(fd) → true (hookperf's; fd methods in ljsyscall)
//	if_nametoindex(name) → index
//
// Data. buf is a pointer (msg.msg_iov[0].iov_base, a buffer()) or, for
// sending, a string; count defaults to the buffer's length and may not
// exceed it (a Lua error, never an access past the buffer):
//
//	read(fd[, buf[, count]]) → n;  without buf, a string of at most count (4096) bytes
//	write(fd, buf[, count]) → n
//	recv(fd, buf[, count[, flags]]) → n
//	recvfrom(fd, buf[, count[, flags[, sa]]]) → n, nil, sa (sa filled with the
//	    sender's address; a new sockaddr_storage when sa is nil; only n when sa is false)
//	send(fd, buf[, count[, flags]]), sendto(fd, buf[, count[, flags[, sa]]]) → n
//	recvmsg(fd, msg[, flags]), sendmsg(fd, msg[, flags]) → n, over a hook's msg
//
// recvmsg and sendmsg use the kit's raw syscalls (for the non-blocking
// sockets of the workers); `return recvmsg(sockfd, msg, flags)` allocates
// nothing.
//
// Process and time:
//
//	getpid(), getppid(), gettid(), getuid(), geteuid(), getgid(), getegid()
//	getcpu() → {cpu=, node=}
//	clock_gettime(clock[, ts]) → ts;  clock_getres(clock) → ts
//	gettimeofday([tv]) → tv;  time() → seconds
//	nanosleep(t) → true (t: seconds, a timespec or {sec, nsec}; blocks the worker)
//	strerror(errno) → string;  htons, ntohs, htonl, ntohl
//
// Constants, as S.c.<GROUP>.<NAME> and global <GROUP>_<NAME> (errnos:
// S.c.E.AGAIN and EAGAIN), Linux's values: AF, SOCK, IPPROTO, SOL (SOCKET,
// IP, IPV6, TCP, UDP...), SO (incl. BINDTODEVICE, RXQ_OVFL, TIMESTAMPING,
// REUSEPORT, MAX_PACING_RATE, ATTACH_REUSEPORT_CBPF, INCOMING_CPU,
// PRIORITY...), SO_EE_ORIGIN, SCM (incl. TIMESTAMPING, TSTAMP_SND/SCHED/ACK),
// SOF (TIMESTAMPING_*), IP, IPV6, TCP (NODELAY, MAXSEG, CONGESTION, INFO,
// QUICKACK, NOTSENT_LOWAT, USER_TIMEOUT, CORK...), UDP, MSG, SHUT, CLOCK, F,
// FD, O, AI, BPF (classic opcodes), SKF (SKF_AD_OFF, SKF_AD_CPU...,
// SKF_NET_OFF, SKF_LL_OFF), E; and SOMAXCONN, IFNAMSIZ.
//
// Types, as globals and under S.types.t (also S.t); sizes under S.types.s:
//
//	in_addr([s]) — s: "1.2.3.4", "any", "loopback", an s_addr number, or an
//	    in_addr; tostring gives the dotted quad, .s_addr the address as C reads
//	    it (network byte order in a native integer), == compares
//	in6_addr([s]) — tostring, ==, .s6_addr (16-byte string)
//	sockaddr_in([port[, addr]]), sockaddr_in6([port[, addr[, flowinfo[, scope_id]]]]),
//	sockaddr_storage([sa]) — one type, whose fields follow the family it
//	    holds: family (sa_family, sin_family, sin6_family, ss_family), port
//	    (sin_port, sin6_port; in host byte order, unlike C), addr (sin_addr,
//	    sin6_addr: an in_addr or in6_addr sharing the sockaddr's bytes), address
//	    (a string), flowinfo, scope_id; all settable; tostring "1.2.3.4:80",
//	    ==, #sa its length
//	timespec([t]) — .sec .nsec (tv_sec, tv_nsec) .time (float seconds); settable
//	timeval([t]) — .sec .usec (tv_sec, tv_usec) .time
//	buffer(n | s) — n zero bytes, or a copy of s: a pointer
//	sock_filter(op, k, jt, jf), bpf_prog{insn...} (S.t.sock_fprog) — see below
//	S.t.error(errno) — an error object
//
// Pointers (iov_base, msg_control, cmsg_data, buffers) are windows onto
// memory, checked at each access: p[i] (a byte, 0-based, settable), #p,
// p + n (a pointer n bytes further), p:string([len]), p:copy(s[, len]).
// Casts, as globals <name>_ptr and S.types.pt.<name> (also S.pt): they take
// a pointer or a string (cmsg:data()):
//
//	uint8_ptr, uint16_ptr, uint32_ptr, int32_ptr, uint64_ptr, int64_ptr — p[i], 0-based, settable
//	scm_timestamping_ptr(p).ts[0..2] — timespecs
//	sock_extended_err_ptr(p) — ee_errno, ee_origin, ee_type, ee_code, ee_info, ee_data
//	in_pktinfo_ptr(p) — ipi_ifindex, ipi_spec_dst, ipi_addr
//	in6_pktinfo_ptr(p) — ipi6_addr, ipi6_ifindex
//
// The msghdr of a packet hook (read-only but for msg_namelen,
// msg_controllen and msg_flags):
//
//	msg.msg_iov[0].iov_base — a pointer into the worker's buffer;
//	msg.msg_iov[0].iov_len — its length; msg.msg_iovlen — 1
//	msg.msg_name, msg.msg_namelen; msg.msg_control, msg.msg_controllen; msg.msg_flags
//	msg:name() — the peer address recvmsg stored, a sockaddr (nil if none)
//	msg:cmsg_firsthdr() → pos, cmsg (nil, nil if none)
//	msg:cmsg_nxthdr(pos[, cmsg]) → pos, cmsg
//	for pos, cmsg in msg:cmsgs() do ... end
//
// A control message has cmsg_level, cmsg_type, cmsg_len, cmsg_data (a
// pointer to its data, for uint32_ptr, scm_timestamping_ptr...), and
// cmsg:len(), cmsg:datalen(), cmsg:data() (the data as a string; a pointer
// in ljsyscall), cmsg:hdrsize(), cmsg:align(). Control messages are parsed
// as CMSG_FIRSTHDR/CMSG_NXTHDR do; the object for a position of the
// control buffer is reused (refilled) by later calls.
//
// Classic BPF, in place of the FFI types rushit's reuseport-cbpf.lua built:
//
//	local prog = bpf_prog{
//	  {op = "LD,W,ABS", k = SKF_AD_OFF + SKF_AD_CPU}, -- A = #cpu
//	  {op = "ALU,MOD,K", k = 16},                     -- A = A % 16
//	  {op = "RET,A"},                                 -- return A
//	}
//	assert(setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, prog))
//
// An instruction is {op=, k=, jt=, jf=} (op: BPF names joined by commas,
// as ljsyscall's sock_filter takes them), {code=<number>, ...}, {op, k,
// jt, jf}, or sock_filter(op, k, jt, jf). bpf_prog refuses what the kernel
// would: unknown opcodes, jumps out of the program, scratch slots past 15,
// division by a zero constant, a last instruction other than RET. #prog is
// its length, prog[i] (0-based) its instructions.
//
// The bit library is LuaJIT's (global bit, require("bit")): tobit, tohex,
// bnot, band, bor, bxor (variadic), lshift, rshift, arshift, rol, ror,
// bswap, on 32-bit integers with signed results.
//
// Not there: FFI (require("ffi")), ljsyscall's fd objects and its other
// system calls (files, processes, netlink...).
package lsys
