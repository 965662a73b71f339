package lsys

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/hookperf/hookperf/kit"
)

// helpersLua is loaded before every script: assertions and socket
// helpers. Sockets made with track() are closed by the test.
const helpersLua = `
function eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %s, want %s", what or "value", tostring(got), tostring(want)), 2)
  end
end

-- fails(f, pattern): f() raises an error matching pattern.
function fails(f, pattern)
  local ok, err = pcall(f)
  if ok then error("no error, want one matching " .. pattern, 2) end
  if not string.find(tostring(err), pattern, 1, true) then
    error("error " .. tostring(err) .. " does not contain " .. pattern, 2)
  end
end

-- retry calls f until it returns something other than nil, EAGAIN (1 s).
function retry(f, ...)
  for _ = 1, 1000 do
    local r = {f(...)}
    if r[1] ~= nil or not r[2].AGAIN then return unpack(r) end
    nanosleep(0.001)
  end
  error("still EAGAIN after 1 s", 2)
end

-- udp() is a non-blocking UDP socket bound to 127.0.0.1 and its address.
function udp()
  local fd = track(assert(socket("inet", "dgram, nonblock", 0)))
  assert(bind(fd, sockaddr_in(0, "127.0.0.1")))
  return fd, getsockname(fd)
end

-- tcp() is a connected pair of non-blocking TCP sockets over loopback.
function tcp()
  local l = track(assert(socket(AF_INET, SOCK_STREAM, 0)))
  assert(bind(l, sockaddr_in(0, "127.0.0.1")))
  assert(listen(l, 1))
  local c = track(assert(socket(AF_INET, SOCK_STREAM, 0)))
  assert(connect(c, getsockname(l)))
  local s = track(assert(accept(l)))
  assert(nonblock(c))
  assert(nonblock(s))
  return c, s
end
`

// newState opens a state with lsys and the test helpers; msg is a
// msghdr over m (2 KiB buffer, 512-byte control buffer).
func newState(t testing.TB) (*lua.LState, *kit.Msg) {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	Open(L)
	var tracked []int
	L.SetGlobal("track", L.NewFunction(func(L *lua.LState) int {
		fd := L.CheckInt(1)
		tracked = append(tracked, fd)
		L.Push(lua.LNumber(fd))
		return 1
	}))
	t.Cleanup(func() {
		for _, fd := range tracked {
			unix.Close(fd)
		}
	})
	m := &kit.Msg{Buf: make([]byte, 2048), Name: make([]byte, 128), Control: make([]byte, 512)}
	L.SetGlobal("msg", NewMsg(L, m))
	if err := L.DoString(helpersLua); err != nil {
		t.Fatal(err)
	}
	return L, m
}

// TestScripts runs testdata/*.lua; each asserts on what the kernel did.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.lua")
	assert.NilError(t, err)
	assert.Assert(t, len(files) > 0)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".lua"), func(t *testing.T) {
			L, _ := newState(t)
			if err := L.DoFile(f); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSnippets runs short Lua snippets: want "" means they must succeed,
// anything else is a part of the error they must raise.
func TestSnippets(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{"close(-1)", `
			local ok, err = close(-1)
			eq(ok, nil, "ok")
			eq(err.BADF, true, "err.BADF")
			eq(err.AGAIN, false, "err.AGAIN")
			eq(err.EBADF, true, "err.EBADF")
			eq(err.errno, EBADF, "err.errno")
			eq(err.errno, S.c.E.BADF, "err.errno")
			eq(err.sym, "EBADF", "err.sym")
			eq(err.lsym, "ebadf", "err.lsym")
			eq(tostring(err), "bad file descriptor", "tostring")
			eq("e: " .. err, "e: bad file descriptor", "concat")
			local _, err2 = getsockopt(-1, SOL_SOCKET, SO_TYPE)
			eq(err2, err, "errors of one errno")
			eq(S.t.error(EBADF), err, "S.t.error")
			eq(S.t.error("AGAIN").sym, "EAGAIN", "S.t.error by name")`, ""},
		{"error has no such field", `local _, err = close(-1); return err.NOSUCH`, `invalid error field "NOSUCH"`},
		{"errors are read-only", `local _, err = close(-1); err.errno = 3`, "read-only"},
		{"ENOTSOCK", `
			local _, err = getsockopt(0 + 999, SOL_SOCKET, SO_TYPE)
			eq(err.BADF, true, "BADF")
			local fd = track(assert(socket(AF_INET, SOCK_DGRAM, 0)))
			local _, err = listen(fd, 1)
			eq(err.OPNOTSUPP, true, "listen on UDP")
			eq(err.sym, "EOPNOTSUPP", "sym")`, ""},
		{"int options", `
			local fd = track(assert(socket(AF_INET, SOCK_DGRAM, 0)))
			eq(getsockopt(fd, SOL_SOCKET, SO_TYPE), SOCK_DGRAM, "SO_TYPE")
			eq(getsockopt(fd, "socket", "type"), SOCK_DGRAM, "SO_TYPE by name")
			eq(getsockopt(fd, SOL_SOCKET, SO_DOMAIN), AF_INET, "SO_DOMAIN")
			eq(getsockopt(fd, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP, "SO_PROTOCOL")
			eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, 100000), true, "set SO_RCVBUF")
			eq(getsockopt(fd, SOL_SOCKET, SO_RCVBUF), 200000, "SO_RCVBUF (the kernel doubles it)")
			assert(setsockopt(fd, SOL_SOCKET, SO_PRIORITY, 5))
			eq(getsockopt(fd, SOL_SOCKET, SO_PRIORITY), 5, "SO_PRIORITY")
			assert(setsockopt(fd, SOL_SOCKET, SO_PRIORITY, 0))
			eq(getsockopt(fd, SOL_SOCKET, SO_PRIORITY), 0, "SO_PRIORITY 0")
			assert(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, true))
			eq(getsockopt(fd, SOL_SOCKET, SO_REUSEPORT), 1, "SO_REUSEPORT")
			assert(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, false))
			eq(getsockopt(fd, SOL_SOCKET, SO_REUSEPORT), 0, "SO_REUSEPORT off")
			assert(setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, 1))
			eq(getsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL), 1, "SO_RXQ_OVFL")
			assert(setsockopt(fd, SOL_IP, IP_RECVERR, 1))
			eq(getsockopt(fd, SOL_IP, IP_RECVERR), 1, "IP_RECVERR")
			assert(setsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, 12345678901))
			eq(getsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE), 12345678901, "SO_MAX_PACING_RATE (64 bits)")
			assert(setsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, 1000000, 4))
			eq(getsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE), 1000000, "SO_MAX_PACING_RATE (32 bits)")
			eq(getsockopt(fd, SOL_SOCKET, SO_ERROR), 0, "SO_ERROR")
			eq(type(getsockopt(fd, SOL_SOCKET, SO_COOKIE)), "number", "SO_COOKIE")
			assert(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, 1.5))
			local tv = getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO)
			eq(tv.sec, 1, "SO_RCVTIMEO sec"); eq(tv.usec, 500000, "SO_RCVTIMEO usec")
			assert(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, timeval(2)))
			eq(getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO).time, 2, "SO_SNDTIMEO")
			eq(#getsockopt(fd, SOL_SOCKET, SO_TYPE, 4), 4, "raw option bytes")`, ""},
		{"tcp options", `
			local fd = track(assert(socket(AF_INET, SOCK_STREAM, 0)))
			eq(getsockopt(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM, "SO_TYPE")
			eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY), 0, "TCP_NODELAY default")
			assert(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1))
			eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY), 1, "TCP_NODELAY")
			assert(setsockopt(fd, SOL_TCP, "nodelay", false))
			eq(getsockopt(fd, SOL_TCP, TCP_NODELAY), 0, "TCP_NODELAY by name")
			assert(setsockopt(fd, SOL_TCP, TCP_CONGESTION, "reno"))
			eq(getsockopt(fd, SOL_TCP, TCP_CONGESTION), "reno", "TCP_CONGESTION")
			assert(setsockopt(fd, SOL_TCP, TCP_CONGESTION, "cubicXYZ", 5))
			eq(getsockopt(fd, SOL_TCP, TCP_CONGESTION), "cubic", "TCP_CONGESTION with a length")
			local ok, err = setsockopt(fd, SOL_TCP, TCP_CONGESTION, "nosuchcc")
			eq(ok, nil, "unknown congestion control"); eq(err.NOENT, true, "ENOENT")
			assert(setsockopt(fd, SOL_TCP, TCP_USER_TIMEOUT, 1234))
			eq(getsockopt(fd, SOL_TCP, TCP_USER_TIMEOUT), 1234, "TCP_USER_TIMEOUT")
			assert(setsockopt(fd, SOL_TCP, TCP_NOTSENT_LOWAT, 16384))
			eq(getsockopt(fd, SOL_TCP, TCP_NOTSENT_LOWAT), 16384, "TCP_NOTSENT_LOWAT")
			assert(setsockopt(fd, SOL_TCP, TCP_CORK, 1))
			eq(getsockopt(fd, SOL_TCP, TCP_CORK), 1, "TCP_CORK")
			assert(setsockopt(fd, SOL_TCP, TCP_MAXSEG, 1000))
			eq(getsockopt(fd, SOL_TCP, TCP_MAXSEG), 1000, "TCP_MAXSEG")
			assert(setsockopt(fd, SOL_SOCKET, SO_LINGER, {l_onoff = 1, l_linger = 0}))
			local l = getsockopt(fd, SOL_SOCKET, SO_LINGER)
			eq(l.l_onoff, 1, "l_onoff"); eq(l.l_linger, 0, "l_linger")`, ""},
		{"tcp_info", `
			local c, s = tcp()
			eq(send(c, "hello"), 5, "send")
			local buf = buffer(16)
			eq(retry(recv, s, buf, 16, 0), 5, "recv")
			eq(buf:string(5), "hello", "bytes")
			local ti = assert(getsockopt(c, SOL_TCP, TCP_INFO))
			eq(ti.tcpi_state, 1, "tcpi_state (TCP_ESTABLISHED)")
			assert(ti.tcpi_rtt > 0, "tcpi_rtt")
			assert(ti.tcpi_snd_cwnd > 0, "tcpi_snd_cwnd")
			eq(ti.tcpi_retransmits, 0, "tcpi_retransmits")
			eq(ti.tcpi_bytes_acked, 6, "tcpi_bytes_acked (SYN + 5)")
			eq(ti.tcpi_snd_mss > 0, true, "tcpi_snd_mss")
			eq(type(ti.tcpi_snd_wscale), "number", "tcpi_snd_wscale")
			eq(getpeername(c), getsockname(s), "getpeername")
			eq(getpeername(s).port, getsockname(c).port, "peer port")
			assert(shutdown(c, SHUT_WR))
			eq(retry(read, s, buf), 0, "EOF after shutdown")`, ""},
		{"bind to device", `
			local fd = track(assert(socket(AF_INET, SOCK_DGRAM, 0)))
			local ok, err = setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2)
			if ok then
				eq(getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE), "lo", "SO_BINDTODEVICE")
			else
				eq(err.PERM, true, "EPERM without CAP_NET_RAW")
			end
			local ok, err = setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "nosuchdev0")
			eq(ok, nil, "no such device")
			assert(err.NODEV or err.PERM, tostring(err))`, ""},
		{"bind and getsockname", `
			local fd = track(assert(socket(AF_INET, SOCK_DGRAM, 0)))
			local sin = sockaddr_in(0, in_addr("127.0.0.1"))
			eq(bind(fd, sin), true, "bind")
			local sa = getsockname(fd)
			eq(sa.family, AF_INET, "family"); eq(sa.sa_family, AF_INET, "sa_family")
			eq(sa.sin_family, AF_INET, "sin_family")
			assert(sa.port > 0, "port")
			eq(sa.sin_port, sa.port, "sin_port is in host order")
			eq(tostring(sa.addr), "127.0.0.1", "addr")
			eq(sa.address, "127.0.0.1", "address")
			eq(sa.sin_addr, in_addr("127.0.0.1"), "sin_addr")
			eq(tostring(sa), "127.0.0.1:" .. sa.port, "tostring")
			eq(#sa, 16, "length")
			local into = sockaddr_storage()
			eq(getsockname(fd, into), into, "fills the given object")
			eq(into.port, sa.port, "port")
			local _, err = bind(fd, sockaddr_in(0, "127.0.0.1"))
			eq(err.INVAL, true, "bound twice")`, ""},
		{"ipv6", `
			local fd = track(assert(socket(AF_INET6, SOCK_DGRAM, 0)))
			assert(bind(fd, sockaddr_in6(0, "::1")))
			local sa = getsockname(fd)
			eq(sa.family, AF_INET6, "family"); eq(sa.sin6_family, AF_INET6, "sin6_family")
			eq(tostring(sa.sin6_addr), "::1", "sin6_addr")
			eq(sa.addr, in6_addr("::1"), "in6_addr ==")
			eq(#sa, 28, "length")
			local rx = track(assert(socket(AF_INET6, "dgram, nonblock", 0)))
			assert(bind(rx, sockaddr_in6(0, "::1")))
			eq(sendto(fd, "six", nil, 0, getsockname(rx)), 3, "sendto")
			local from = sockaddr_in6()
			local n, _, sa2 = retry(recvfrom, rx, buffer(8), 8, 0, from)
			eq(n, 3, "recvfrom"); eq(sa2, from, "filled"); eq(from.port, sa.port, "port")`, ""},
		{"in_addr", `
			local a = in_addr("10.1.2.3")
			eq(tostring(a), "10.1.2.3", "tostring")
			eq(a, in_addr("10.1.2.3"), "__eq")
			assert(a ~= in_addr("10.1.2.4"), "~=")
			eq(a.s_addr, in_addr("10.1.2.3").s_addr, "s_addr")
			eq(in_addr(a.s_addr), a, "from s_addr")
			eq(in_addr("127.0.0.1").s_addr, ntohl(0x7f000001), "s_addr is in network order")
			eq(tostring(in_addr()), "0.0.0.0", "any")
			eq(#a, 4, "size")
			local sin = sockaddr_in(80, a)
			eq(sin.port, 80, "port"); eq(sin.addr, a, "addr")
			sin.sin_addr.s_addr = in_addr("1.2.3.4").s_addr
			eq(tostring(sin), "1.2.3.4:80", "sin_addr aliases the sockaddr")
			sin.port = 8080; sin.addr = "5.6.7.8"
			eq(tostring(sin), "5.6.7.8:8080", "set")
			eq(S.types.t.in_addr, in_addr, "S.types.t"); eq(S.t.sockaddr_in, sockaddr_in, "S.t")
			eq(S.types.pt.uint32, uint32_ptr, "S.types.pt")
			eq(S.types.s.sockaddr_in6, 28, "S.types.s")`, ""},
		{"bad in_addr", `in_addr("1.2.3")`, `invalid IPv4 address "1.2.3"`},
		{"sockaddr field", `return sockaddr_in(1).nosuch`, `sockaddr has no field "nosuch"`},
		{"timespec", `
			local ts = assert(clock_gettime(CLOCK_REALTIME))
			local now = time()
			assert(math.abs(ts.sec - now) <= 1, "sec")
			eq(ts.tv_sec, ts.sec, "tv_sec"); eq(ts.tv_nsec, ts.nsec, "tv_nsec")
			assert(ts.nsec >= 0 and ts.nsec < 1e9, "nsec")
			assert(math.abs(ts.time - (ts.sec + ts.nsec / 1e9)) < 1e-6, "time")
			local mono = assert(clock_gettime("monotonic"))
			local mono2 = clock_gettime(CLOCK_MONOTONIC, timespec())
			assert(mono <= mono2, "monotonic")
			local t = timespec(1.25); eq(t.sec, 1, "sec"); eq(t.nsec, 250000000, "nsec")
			eq(tostring(t), "1.25", "tostring")
			t.time = 3.5; eq(t.sec, 3, "time ="); eq(t.nsec, 500000000, "time =")
			eq(timespec{2, 5}.nsec, 5, "from a list"); eq(timespec{tv_sec = 7}.sec, 7, "from fields")
			local tv = gettimeofday(); assert(math.abs(tv.sec - now) <= 1, "gettimeofday")
			eq(clock_getres(CLOCK_MONOTONIC).sec, 0, "clock_getres")`, ""},
		{"process", `
			eq(getpid(), GO_PID, "getpid")
			assert(gettid() > 0, "gettid")
			eq(getppid(), GO_PPID, "getppid")
			eq(getuid(), GO_UID, "getuid")
			local c = getcpu(); assert(c.cpu >= 0 and c.node >= 0, "getcpu")
			eq(if_nametoindex("lo"), GO_LO_INDEX, "if_nametoindex")
			eq(htons(0x1234), 0x3412, "htons"); eq(ntohs(htons(80)), 80, "ntohs")
			eq(strerror(EAGAIN), "resource temporarily unavailable", "strerror")`, ""},
		{"fcntl", `
			local fd = track(assert(socket(AF_INET, SOCK_DGRAM, 0)))
			eq(bit.band(fcntl(fd, F_GETFL), O_NONBLOCK), 0, "blocking")
			assert(nonblock(fd))
			eq(bit.band(fcntl(fd, F_GETFL), O_NONBLOCK), O_NONBLOCK, "nonblock")
			assert(block(fd))
			eq(bit.band(fcntl(fd, "getfl"), O_NONBLOCK), 0, "block")
			assert(fcntl(fd, F_SETFL, "nonblock"))
			eq(bit.band(fcntl(fd, F_GETFL), O_NONBLOCK), O_NONBLOCK, "F_SETFL")
			local _, err = read(fd, buffer(4)); eq(err.AGAIN, true, "EAGAIN")
			eq(err.WOULDBLOCK, true, "EWOULDBLOCK is EAGAIN")`, ""},
		{"string flags", `
			local fd = track(assert(socket("INET", "SOCK_DGRAM|SOCK_NONBLOCK", "udp")))
			eq(getsockopt(fd, "SOL_SOCKET", "SO_PROTOCOL"), IPPROTO_UDP, "protocol")
			eq(bit.band(fcntl(fd, F_GETFL), O_NONBLOCK), O_NONBLOCK, "nonblock")`, ""},
		{"unknown string flag", `socket("inet", "dgram, nosuch")`, `unknown SOCK constant "nosuch"`},
		{"socketpair and read/write", `
			local ok, _, a, b = socketpair(AF_UNIX, SOCK_STREAM, 0)
			eq(ok, true, "socketpair"); track(a); track(b)
			eq(write(a, "hello world", 5), 5, "write with a length")
			eq(read(b, nil, 100), "hello", "read into a string")
			local buf = buffer("xxxxxxxx")
			eq(write(a, buffer("abc")), 3, "write a buffer")
			eq(read(b, buf + 2, 3), 3, "read at an offset")
			eq(tostring(buf:string()), "xxabcxxx", "bytes")
			eq(buf[2], string.byte("a"), "buf[i]")
			buf[0] = 65; eq(buf:string(1), "A", "buf[i] =")
			eq(#(buf + 6), 2, "pointer length")
			eq(buf:copy("zz"), 2, "copy"); eq(buf:string(3), "zza", "copied")`, ""},
		// Bounds: reading or writing past a buffer is an error, never a
		// memory access.
		{"read past a buffer", `
			local ok, _, a, b = socketpair(AF_UNIX, SOCK_STREAM, 0); track(a); track(b)
			read(a, buffer(4), 8)`, "length 8 out of bounds: the buffer has 4 bytes"},
		{"recvfrom past the message buffer", `
			local fd = udp()
			local iov = msg.msg_iov[0]
			recvfrom(fd, iov.iov_base, iov.iov_len + 1, 0, sockaddr_in())`, "length 2049 out of bounds: the buffer has 2048 bytes"},
		{"write past a string", `
			local ok, _, a, b = socketpair(AF_UNIX, SOCK_STREAM, 0); track(a); track(b)
			write(a, "abc", 4)`, "length 4 out of bounds"},
		{"index past a buffer", `return buffer(4)[4]`, "index 4 out of bounds (4 bytes)"},
		{"negative index", `return buffer(4)[-1]`, "index -1 out of bounds"},
		{"store past a buffer", `buffer(4)[4] = 1`, "index 4 out of bounds"},
		{"pointer past a buffer", `return buffer(4) + 5`, "out of bounds"},
		{"uint32 past a buffer", `return uint32_ptr(buffer(6))[1]`, "uint32_ptr: index 1 out of bounds (1 elements)"},
		{"uint32 of a string", `
			eq(uint32_ptr("\1\0\0\0\2\0\0\0")[1], 2, "uint32_ptr of a string")
			eq(#uint32_ptr("12345678"), 2, "elements")
			return uint32_ptr("1234")[1]`, "index 1 out of bounds"},
		{"struct past a buffer", `return scm_timestamping_ptr(buffer(16))`, "scm_timestamping_ptr: 48 bytes needed, the pointer has 16"},
		{"copy past a buffer", `buffer(2):copy("abc")`, "copy of 3 bytes past the end of a 2-byte buffer"},
		{"setsockopt length past a string", `
			local fd = track(assert(socket(AF_INET, SOCK_DGRAM, 0)))
			setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3)`, "length 3 out of bounds"},
		{"msghdr is read-only", `msg.msg_iov = nil`, "msghdr: field msg_iov is read-only"},
		{"iovec is read-only", `msg.msg_iov[0].iov_len = 3`, "read-only"},
		{"msg_controllen bounds", `msg.msg_controllen = 513`, "msg_controllen 513 out of bounds (0..512)"},
		{"recvmsg needs a msghdr", `recvmsg(0, {}, 0)`, "msghdr expected, got table"},
		{"bit", `
			eq(bit.tohex(255), "000000ff", "tohex")
			eq(bit.tohex(-1), "ffffffff", "tohex(-1)")
			eq(bit.tohex(0x1234, 2), "34", "tohex n")
			eq(bit.tohex(0xabcd, -4), "ABCD", "tohex upper")
			eq(bit.bnot(0), -1, "bnot")
			eq(bit.lshift(1, 31), -2147483648, "lshift 31")
			eq(bit.lshift(1, 32), 1, "shift count mod 32")
			eq(bit.rshift(-1, 28), 15, "rshift")
			eq(bit.arshift(-256, 4), -16, "arshift")
			eq(bit.bor(1, 2, 4, 8), 15, "variadic bor")
			eq(bit.band(0xff, 0x0f, 0x3), 3, "variadic band")
			eq(bit.bxor(5, 3, 1), 7, "variadic bxor")
			eq(bit.tobit(0xffffffff), -1, "tobit")
			eq(bit.tobit(2^32 + 5), 5, "tobit wraps")
			eq(bit.tobit(1.5), 2, "tobit rounds to even")
			eq(bit.tobit(2.5), 2, "tobit rounds to even")
			eq(bit.rol(0x12345678, 8), 0x34567812, "rol")
			eq(bit.ror(0x12345678, 8), 0x78123456, "ror")
			eq(bit.bswap(0x12345678), 0x78563412, "bswap")
			eq(bit.bor(SOF_TIMESTAMPING_SOFTWARE, SOF_TIMESTAMPING_TX_ACK, SOF_TIMESTAMPING_OPT_TSONLY), 0xa10, "flags")
			eq(require("bit"), bit, "require")`, ""},
		{"bpf: unknown op", `bpf_prog{ {op = "LD,W,NOSUCH"} }`, `unknown BPF constant "NOSUCH"`},
		{"bpf: not classic", `bpf_prog{ {op = "RET,X"} }`, `"RET,X" is not a classic BPF instruction`},
		{"bpf: jump out", `bpf_prog{ {op = "JMP,JEQ,K", k = 1, jt = 5}, {op = "RET,K"} }`, "instruction 1: jump past the end"},
		{"bpf: last not RET", `bpf_prog{ {op = "LD,W,ABS", k = 0} }`, "the last instruction must be a RET"},
		{"bpf: division by zero", `bpf_prog{ {op = "ALU,DIV,K", k = 0}, {op = "RET,A"} }`, "division by zero"},
		{"bpf: memory slot", `bpf_prog{ {op = "ST", k = 16}, {op = "RET,A"} }`, "memory slot 16 past 15"},
		{"bpf: empty", `bpf_prog{}`, "a program has 1 to 4096 instructions, not 0"},
		{"bpf: forms", `
			local p = bpf_prog{
				sock_filter("LD,W,ABS", SKF_AD_OFF + SKF_AD_CPU),
				{"ALU,MOD,K", 16},
				{code = BPF_RET + BPF_A},
			}
			eq(#p, 3, "length")
			eq(p[0].code, BPF_LD + BPF_W + BPF_ABS, "code")
			eq(p[0].k, 2^32 - 0x1000 + 36, "k as unsigned")
			eq(p[1].k, 16, "k"); eq(p[2].code, 0x16, "RET A")
			eq(S.t.sock_filter("ret,k", 7).k, 7, "lower case names")`, ""},
		{"require", `
			local S2 = require("syscall")
			eq(S2, S, "require syscall")
			eq(S.recvmsg, recvmsg, "S.recvmsg is the global")
			eq(S.c.SOL.SOCKET, SOL_SOCKET, "S.c.SOL.SOCKET")
			eq(S.c.SO.TYPE, SO_TYPE, "S.c.SO.TYPE")
			eq(S.c.SO.RXQ_OVFL, SO_RXQ_OVFL, "S.c.SO.RXQ_OVFL")
			eq(S.c.AF.INET, AF_INET, "S.c.AF.INET")
			eq(S.c.E.AGAIN, EAGAIN, "S.c.E.AGAIN")
			eq(S.c.SOMAXCONN, SOMAXCONN, "S.c.SOMAXCONN")
			-- every constant of a group is a global named G_K (errnos EK)
			local n = 0
			for g, t in pairs(S.c) do
				if type(t) == "table" then
					local prefix = g == "E" and "E" or g .. "_"
					for k, v in pairs(t) do
						eq(_G[prefix .. k], v, prefix .. k); n = n + 1
					end
				end
			end
			assert(n > 500, "constants: " .. n)`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			L, _ := newState(t)
			lo, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0) // keeps fd numbers apart
			assert.NilError(t, err)
			defer unix.Close(lo)
			L.SetGlobal("GO_PID", lua.LNumber(os.Getpid()))
			L.SetGlobal("GO_PPID", lua.LNumber(os.Getppid()))
			L.SetGlobal("GO_UID", lua.LNumber(os.Getuid()))
			L.SetGlobal("GO_LO_INDEX", lua.LNumber(loIndex(t)))
			err = L.DoString(tt.src)
			if tt.wantErr == "" {
				assert.NilError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func loIndex(t testing.TB) int {
	b, err := os.ReadFile("/sys/class/net/lo/ifindex")
	assert.NilError(t, err)
	n := 0
	for _, c := range strings.TrimSpace(string(b)) {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestConstants spot-checks constants against x/sys/unix.
func TestConstants(t *testing.T) {
	tests := []struct {
		expr string
		want int
	}{
		{"AF_INET", unix.AF_INET},
		{"AF_INET6", unix.AF_INET6},
		{"S.c.AF.INET6", unix.AF_INET6},
		{"AF_UNIX", unix.AF_UNIX},
		{"SOCK_STREAM", unix.SOCK_STREAM},
		{"SOCK_DGRAM", unix.SOCK_DGRAM},
		{"SOCK_NONBLOCK", unix.SOCK_NONBLOCK},
		{"IPPROTO_TCP", unix.IPPROTO_TCP},
		{"IPPROTO_UDP", unix.IPPROTO_UDP},
		{"S.c.IPPROTO.IPV6", unix.IPPROTO_IPV6},
		{"SOL_SOCKET", unix.SOL_SOCKET},
		{"S.c.SOL.SOCKET", unix.SOL_SOCKET},
		{"SOL_IP", unix.SOL_IP},
		{"SOL_IPV6", unix.SOL_IPV6},
		{"SOL_TCP", unix.SOL_TCP},
		{"SOL_UDP", unix.SOL_UDP},
		{"SO_TYPE", unix.SO_TYPE},
		{"S.c.SO.TYPE", unix.SO_TYPE},
		{"SO_ERROR", unix.SO_ERROR},
		{"SO_RCVBUF", unix.SO_RCVBUF},
		{"SO_SNDBUF", unix.SO_SNDBUF},
		{"SO_PRIORITY", unix.SO_PRIORITY},
		{"SO_BINDTODEVICE", unix.SO_BINDTODEVICE},
		{"SO_RXQ_OVFL", unix.SO_RXQ_OVFL},
		{"S.c.SO.RXQ_OVFL", unix.SO_RXQ_OVFL},
		{"SO_TIMESTAMPING", unix.SO_TIMESTAMPING},
		{"SO_REUSEPORT", unix.SO_REUSEPORT},
		{"SO_MAX_PACING_RATE", unix.SO_MAX_PACING_RATE},
		{"SO_ATTACH_REUSEPORT_CBPF", unix.SO_ATTACH_REUSEPORT_CBPF},
		{"SO_ATTACH_FILTER", unix.SO_ATTACH_FILTER},
		{"SO_INCOMING_CPU", unix.SO_INCOMING_CPU},
		{"SO_EE_ORIGIN_TIMESTAMPING", unix.SO_EE_ORIGIN_TIMESTAMPING},
		{"IP_RECVERR", unix.IP_RECVERR},
		{"IP_PKTINFO", unix.IP_PKTINFO},
		{"IP_TOS", unix.IP_TOS},
		{"IPV6_RECVERR", unix.IPV6_RECVERR},
		{"IPV6_V6ONLY", unix.IPV6_V6ONLY},
		{"IPV6_FLOWINFO", 11},
		{"MSG_PEEK", unix.MSG_PEEK},
		{"MSG_ERRQUEUE", unix.MSG_ERRQUEUE},
		{"MSG_DONTWAIT", unix.MSG_DONTWAIT},
		{"MSG_TRUNC", unix.MSG_TRUNC},
		{"SCM_TIMESTAMPING", unix.SCM_TIMESTAMPING},
		{"SCM_TSTAMP_ACK", unix.SCM_TSTAMP_ACK},
		{"SCM_RIGHTS", unix.SCM_RIGHTS},
		{"SOF_TIMESTAMPING_SOFTWARE", unix.SOF_TIMESTAMPING_SOFTWARE},
		{"SOF_TIMESTAMPING_TX_ACK", unix.SOF_TIMESTAMPING_TX_ACK},
		{"SOF_TIMESTAMPING_OPT_TSONLY", unix.SOF_TIMESTAMPING_OPT_TSONLY},
		{"TCP_NODELAY", unix.TCP_NODELAY},
		{"TCP_MAXSEG", unix.TCP_MAXSEG},
		{"TCP_CONGESTION", unix.TCP_CONGESTION},
		{"TCP_INFO", unix.TCP_INFO},
		{"TCP_QUICKACK", unix.TCP_QUICKACK},
		{"TCP_NOTSENT_LOWAT", unix.TCP_NOTSENT_LOWAT},
		{"TCP_USER_TIMEOUT", unix.TCP_USER_TIMEOUT},
		{"TCP_CORK", unix.TCP_CORK},
		{"UDP_SEGMENT", unix.UDP_SEGMENT},
		{"EAGAIN", int(unix.EAGAIN)},
		{"EWOULDBLOCK", int(unix.EWOULDBLOCK)},
		{"EBADF", int(unix.EBADF)},
		{"ECONNREFUSED", int(unix.ECONNREFUSED)},
		{"S.c.E.INTR", int(unix.EINTR)},
		{"CLOCK_MONOTONIC", unix.CLOCK_MONOTONIC},
		{"CLOCK_REALTIME", unix.CLOCK_REALTIME},
		{"SHUT_RDWR", unix.SHUT_RDWR},
		{"F_GETFL", unix.F_GETFL},
		{"O_NONBLOCK", unix.O_NONBLOCK},
		{"SOMAXCONN", unix.SOMAXCONN},
		{"BPF_LD", unix.BPF_LD},
		{"BPF_ABS", unix.BPF_ABS},
		{"BPF_MOD", unix.BPF_MOD},
		{"BPF_RET", unix.BPF_RET},
		{"BPF_A", unix.BPF_A},
		{"SKF_AD_OFF", -0x1000},
		{"SKF_AD_CPU", 36},
		{"SKF_AD_RXHASH", 32},
		{"SKF_NET_OFF", -0x100000},
		{"AI_PASSIVE", 1},
	}
	L, _ := newState(t)
	for _, tt := range tests {
		if err := L.DoString("return " + tt.expr); err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		got := L.Get(-1)
		L.Pop(1)
		if got != lua.LNumber(tt.want) {
			t.Errorf("%s = %v, want %d", tt.expr, got, tt.want)
		}
	}
}

func TestErrno(t *testing.T) {
	L, _ := newState(t)
	assert.NilError(t, L.DoString(`return close(-1)`))
	e, ok := Errno(L.Get(-1))
	assert.Assert(t, ok)
	assert.Equal(t, e, unix.EBADF)
	assert.Equal(t, L.Get(-2), lua.LNil)
	_, ok = Errno(lua.LNumber(9))
	assert.Assert(t, !ok)
	_, ok = Errno(lua.LNil)
	assert.Assert(t, !ok)
}

func TestInt(t *testing.T) {
	for _, n := range []int{-2, -1, 0, 1, 1000, 65536, 65537, 1 << 40} {
		assert.Equal(t, Int(n), lua.LValue(lua.LNumber(n)))
	}
	allocs := testing.AllocsPerRun(100, func() {
		for n := -1; n <= 65536; n += 97 {
			_ = Int(n)
		}
	})
	assert.Equal(t, allocs, 0.0)
}

func TestNewAddrInfo(t *testing.T) {
	tests := []struct {
		ai  kit.AddrInfo
		lua string
	}{
		{kit.AddrInfo{Family: unix.AF_INET, SockType: unix.SOCK_DGRAM, Protocol: unix.IPPROTO_UDP, Flags: 1,
			Addr: netip.MustParseAddrPort("127.0.0.1:12867")}, `
			eq(ai.ai_flags, AI_PASSIVE, "ai_flags")
			eq(ai.ai_family, AF_INET, "ai_family")
			eq(ai.ai_socktype, SOCK_DGRAM, "ai_socktype")
			eq(ai.ai_protocol, IPPROTO_UDP, "ai_protocol")
			eq(ai.ai_addrlen, 16, "ai_addrlen")
			eq(ai.ai_canonname, nil, "ai_canonname"); eq(ai.ai_next, nil, "ai_next")
			eq(ai.ai_addr.sa_family, AF_INET, "sa_family"); eq(ai.ai_addr.family, AF_INET, "family")
			eq(ai.ai_addr.port, 12867, "port")
			eq(ai.ai_addr.addr, in_addr("127.0.0.1"), "addr")
			eq(ai.ai_addr.address, "127.0.0.1", "address")`},
		{kit.AddrInfo{Family: unix.AF_INET6, SockType: unix.SOCK_STREAM, Protocol: unix.IPPROTO_TCP,
			Addr: netip.MustParseAddrPort("[::1]:80")}, `
			eq(ai.ai_family, AF_INET6, "ai_family")
			eq(ai.ai_addrlen, 28, "ai_addrlen")
			eq(ai.ai_addr.sa_family, AF_INET6, "sa_family")
			eq(ai.ai_addr.port, 80, "port")
			eq(tostring(ai.ai_addr.addr), "::1", "addr")`},
		{kit.AddrInfo{Family: unix.AF_INET, SockType: unix.SOCK_STREAM, Protocol: unix.IPPROTO_TCP,
			Addr: netip.AddrPortFrom(netip.IPv4Unspecified(), 5)}, `
			eq(ai.ai_addr.address, "0.0.0.0", "address"); eq(ai.ai_addr.port, 5, "port")
			-- a socket can be bound to it
			local fd = track(assert(socket(ai.ai_family, ai.ai_socktype, ai.ai_protocol)))
			ai.ai_addr.port = 0
			assert(bind(fd, ai.ai_addr, ai.ai_addrlen))`},
	}
	for _, tt := range tests {
		L, _ := newState(t)
		L.SetGlobal("ai", NewAddrInfo(L, &tt.ai))
		assert.NilError(t, L.DoString(tt.lua), "%+v", tt.ai)
	}
}

// TestCopyTo copies typed values to another state: each copy is detached
// and uses the destination's metatables.
func TestCopyTo(t *testing.T) {
	from, _ := newState(t)
	to, _ := newState(t)
	stTo := stateOf(to)
	assert.NilError(t, from.DoString(`
		values = {
			in_addr("1.2.3.4"), in6_addr("fe80::1"), sockaddr_in(80, "10.0.0.1"),
			sockaddr_in6(443, "::1"), timespec(1.5), timeval(2.25), select(2, close(-1)),
			buffer("abc"), sock_filter("RET,K", 3), bpf_prog{ {op = "RET,K", k = 9} },
			sockaddr_in(7, "9.9.9.9").sin_addr,
		}`))
	vals := from.GetGlobal("values").(*lua.LTable)
	out := to.NewTable()
	for i := 1; i <= vals.Len(); i++ {
		ud := vals.RawGetInt(i).(*lua.LUserData)
		c, ok := ud.Value.(interface{ CopyTo(*lua.LState) lua.LValue })
		assert.Assert(t, ok, "%T has no CopyTo", ud.Value)
		cp := c.CopyTo(to)
		cud, ok := cp.(*lua.LUserData)
		assert.Assert(t, ok)
		assert.Assert(t, cud != ud)
		found := false
		for _, mt := range stTo.mt {
			found = found || cud.Metatable == mt
		}
		assert.Assert(t, found, "%T: metatable not the destination's", ud.Value)
		out.Append(cp)
	}
	to.SetGlobal("values", out)
	assert.NilError(t, to.DoString(`
		local v = values
		eq(tostring(v[1]), "1.2.3.4", "in_addr"); eq(v[1], in_addr("1.2.3.4"), "in_addr ==")
		eq(tostring(v[2]), "fe80::1", "in6_addr")
		eq(tostring(v[3]), "10.0.0.1:80", "sockaddr_in"); eq(v[3].addr, in_addr("10.0.0.1"), "addr")
		eq(tostring(v[4]), "[::1]:443", "sockaddr_in6")
		eq(v[5].nsec, 500000000, "timespec"); eq(v[6].usec, 250000, "timeval")
		eq(v[7].BADF, true, "error"); eq(v[7], select(2, close(-1)), "the state's error object")
		eq(v[8]:string(), "abc", "buffer"); v[8][0] = 65
		eq(v[9].k, 3, "sock_filter"); eq(v[10][0].k, 9, "bpf_prog")
		eq(tostring(v[11]), "9.9.9.9", "an in_addr inside a sockaddr")`))
	assert.NilError(t, from.DoString(`eq(values[8]:string(), "abc", "the source buffer is untouched")`))
}

// TestForeignFunction calls a Go function of one state from another (as a
// copied upvalue would): it works on the calling state's objects.
func TestForeignFunction(t *testing.T) {
	a, _ := newState(t)
	b, _ := newState(t)
	b.SetGlobal("a_in_addr", a.GetGlobal("in_addr"))
	b.SetGlobal("a_close", a.GetGlobal("close"))
	assert.NilError(t, b.DoString(`
		local x = a_in_addr("1.1.1.1")
		eq(x, in_addr("1.1.1.1"), "made with b's metatable")
		local _, err = a_close(-1)
		eq(err, select(2, close(-1)), "b's error object")
		-- and from a coroutine of b
		local co = coroutine.wrap(function() return a_in_addr("2.2.2.2") end)
		eq(co(), in_addr("2.2.2.2"), "coroutine")`))
	ud := b.GetGlobal("a_in_addr")
	assert.Assert(t, is.Equal(ud.Type(), lua.LTFunction))
}

func TestNotOpened(t *testing.T) {
	a, _ := newState(t)
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("f", a.GetGlobal("in_addr"))
	assert.ErrorContains(t, L.DoString(`f("1.2.3.4")`), "not opened")
}
