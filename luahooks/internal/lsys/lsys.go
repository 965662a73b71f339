package lsys

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/hookperf/hookperf/kit"
)

// registryKey is where Open leaves the state's *state (in a userdata) in
// the Lua registry, for the slow path of stateOf.
const registryKey = "hookperf.lsys"

// Userdata kinds, each with one metatable per Lua state.
const (
	tError = iota
	tInAddr
	tIn6Addr
	tSockaddr
	tTimespec
	tTimeval
	tPtr
	tView
	tFilter
	tProg
	tMsg
	numTypes
)

var typeNames = [numTypes]string{
	tError:    "error",
	tInAddr:   "in_addr",
	tIn6Addr:  "in6_addr",
	tSockaddr: "sockaddr",
	tTimespec: "timespec",
	tTimeval:  "timeval",
	tPtr:      "pointer",
	tView:     "view",
	tFilter:   "sock_filter",
	tProg:     "bpf_prog",
	tMsg:      "msghdr",
}

// state is what lsys keeps per Lua state (per gopher-lua Global, so that
// coroutines of a state share it): the metatables of its types and the
// pre-made error objects.
type state struct {
	g    *lua.Global
	env  *lua.LTable
	mt   [numTypes]*lua.LTable
	errs [maxCachedErrno]*lua.LUserData
	// The methods of control messages (the __index of cmsgFieldsMT, the
	// metatable of every cmsg's fields) and of msghdrs; readOnly is the
	// __newindex of read-only proxies.
	cmsgMethods  *lua.LTable
	cmsgFieldsMT *lua.LTable
	msgMethods   *lua.LTable
	readOnly     *lua.LFunction
	// tail is the deferred call of the state's packet hooks, if any.
	tail *TailCall
	// S is the module table.
	S *lua.LTable
}

// maxCachedErrno bounds the errno values whose error objects are made once
// per state and reused (Linux's errnos are below 134).
const maxCachedErrno = 256

// stateOf returns the lsys state of L, by a registry lookup. The Go
// functions lsys installs carry their state and only come here when called
// from another state (e.g. a function value copied across states).
func stateOf(L *lua.LState) *state {
	if ud, ok := L.G.Registry.RawGetString(registryKey).(*lua.LUserData); ok {
		if st, ok := ud.Value.(*state); ok {
			return st
		}
	}
	return nil
}

func mustState(L *lua.LState) *state {
	st := stateOf(L)
	if st == nil {
		L.RaiseError("lsys: the socket layer was not opened in this Lua state")
	}
	return st
}

// fn binds f to st, looking the state up again when the function is
// called from another state than the one it was made for.
func (st *state) fn(f func(*state, *lua.LState) int) *lua.LFunction {
	return &lua.LFunction{IsG: true, Env: st.env, GFunction: func(L *lua.LState) int {
		s := st
		if L.G != s.g {
			s = mustState(L)
		}
		return f(s, L)
	}}
}

// newUD makes a userdata of the given kind.
func (st *state) newUD(L *lua.LState, kind int, v any) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = v
	ud.Metatable = st.mt[kind]
	return ud
}

// udTo is newUD for CopyTo: it finds the destination's state itself.
func udTo(to *lua.LState, kind int, v any) *lua.LUserData {
	ud := to.NewUserData()
	ud.Value = v
	if st := stateOf(to); st != nil {
		ud.Metatable = st.mt[kind]
	}
	return ud
}

// Open installs the socket layer in L: the module as global S and as
// require("syscall"), every wrapper and constant as rushit-style globals
// (group G, name K: G_K, errnos as EK), the types (also under S.types.t
// and S.t; pointer casts under S.types.pt and S.pt), and the LuaJIT-style
// bit library (global bit, require("bit")). Call it once per state.
func Open(L *lua.LState) {
	st := &state{g: L.G, env: L.G.Global}
	reg := L.NewUserData()
	reg.Value = st
	L.G.Registry.RawSetString(registryKey, reg)
	for k := range numTypes {
		st.mt[k] = L.NewTypeMetatable("lsys." + typeNames[k])
	}
	st.readOnly = st.fn(func(_ *state, L *lua.LState) int {
		L.RaiseError("attempt to set field %s of a read-only object", L.Get(2).String())
		return 0
	})
	st.cmsgMethods = L.NewTable()

	S := L.NewTable()
	st.S = S
	G := L.G.Global

	c := L.NewTable()
	S.RawSetString("c", c)
	for _, grp := range constGroups {
		t := L.NewTable()
		c.RawSetString(grp.name, t)
		for _, k := range grp.consts {
			v := Int(k.value)
			t.RawSetString(k.name, v)
			G.RawSetString(grp.global(k.name), v)
		}
	}
	for _, k := range topConsts {
		c.RawSetString(k.name, Int(k.value))
		G.RawSetString(k.name, Int(k.value))
	}

	funcs := L.NewTable()
	for _, w := range wrappers {
		f := st.fn(w.fn)
		S.RawSetString(w.name, f)
		funcs.RawSetString(w.name, f)
		G.RawSetString(w.name, f)
	}

	types := L.NewTable()
	tt, pt, ss := L.NewTable(), L.NewTable(), L.NewTable()
	types.RawSetString("t", tt)
	types.RawSetString("pt", pt)
	types.RawSetString("s", ss)
	S.RawSetString("types", types)
	S.RawSetString("t", tt)
	S.RawSetString("pt", pt)
	S.RawSetString("s", ss)
	for _, ty := range typeCtors {
		f := st.fn(ty.fn)
		tt.RawSetString(ty.name, f)
		if ty.global != "" {
			G.RawSetString(ty.global, f)
		}
	}
	for _, ty := range ptrCtors {
		f := st.fn(ty.fn)
		pt.RawSetString(ty.name, f)
		G.RawSetString(ty.name+"_ptr", f)
	}
	for _, s := range typeSizes {
		ss.RawSetString(s.name, Int(s.value))
	}

	st.initErrorType(L)
	st.initAddrTypes(L)
	st.initTimeTypes(L)
	st.initPtrTypes(L)
	st.initBPFTypes(L)
	st.initMsgType(L)

	bit := openBit(L, st)
	G.RawSetString("bit", bit)
	G.RawSetString("S", S)
	if loaded, ok := L.GetField(L.Get(lua.RegistryIndex), "_LOADED").(*lua.LTable); ok {
		loaded.RawSetString("syscall", S)
		loaded.RawSetString("bit", bit)
	}
}

// setMeta fills a metatable from name/function pairs.
func (st *state) setMeta(mt *lua.LTable, fns map[string]func(*state, *lua.LState) int) {
	for name, f := range fns {
		mt.RawSetString(name, st.fn(f))
	}
}

// --- numbers ---

const (
	minBoxed = -1
	maxBoxed = 65536
)

// boxed holds the Lua numbers minBoxed..maxBoxed, boxed once.
var boxed = func() []lua.LValue {
	b := make([]lua.LValue, maxBoxed-minBoxed+1)
	for i := range b {
		b[i] = lua.LNumber(i + minBoxed)
	}
	return b
}()

// Int returns n as a Lua number without allocating for -1..65536 (the
// values are boxed once and shared read-only by every state).
func Int(n int) lua.LValue {
	if n >= minBoxed && n <= maxBoxed {
		return boxed[n-minBoxed]
	}
	return lua.LNumber(n)
}

// --- arguments ---

// intArg reads argument n as an integer: a number (truncated toward zero)
// or a boolean (1 or 0).
func intArg(L *lua.LState, n int) int {
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		return int(v)
	case lua.LBool:
		if v {
			return 1
		}
		return 0
	}
	L.TypeError(n, lua.LTNumber)
	return 0
}

// flagArg reads argument n as a constant of group grp: nil or none (0), a
// number, or a string of names from the group, with or without the
// group's prefix, in any case, separated by commas, spaces or '|', whose
// values are or-ed (ljsyscall's convention: "inet", "dgram, nonblock").
func flagArg(L *lua.LState, n int, grp *constGroup) int {
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
		return 0
	case lua.LNumber:
		return int(v)
	case lua.LBool:
		if v {
			return 1
		}
		return 0
	case lua.LString:
		if grp == nil {
			L.ArgError(n, "number expected, got string")
		}
		x, err := grp.parse(string(v))
		if err != nil {
			L.ArgError(n, err.Error())
		}
		return x
	}
	L.TypeError(n, lua.LTNumber)
	return 0
}

// optIntArg is intArg with a default for nil or none.
func optIntArg(L *lua.LState, n, def int) int {
	if L.Get(n) == lua.LNil {
		return def
	}
	return intArg(L, n)
}

// checkUD returns argument n's userdata value if it is a T.
func checkUD[T any](L *lua.LState, n int, what string) T {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if v, ok := ud.Value.(T); ok {
			return v
		}
	}
	L.ArgError(n, what+" expected, got "+typeName(L.Get(n)))
	var zero T
	return zero
}

// typeName names a value's type for error messages, lsys types by name.
func typeName(v lua.LValue) string {
	if ud, ok := v.(*lua.LUserData); ok {
		switch ud.Value.(type) {
		case *errVal:
			return "error"
		case *inAddr:
			return "in_addr"
		case *in6Addr:
			return "in6_addr"
		case *sockaddr:
			return "sockaddr"
		case *timespec:
			return "timespec"
		case *timeval:
			return "timeval"
		case *ptrVal, *bufVal:
			return "pointer"
		case *view:
			return "view"
		case *sockFilter:
			return "sock_filter"
		case *bpfProg:
			return "bpf_prog"
		case *msgObj:
			return "msghdr"
		}
	}
	return v.Type().String()
}

// --- errors of the calls ---

// pushErr pushes nil, err for errno e and returns 2.
func (st *state) pushErr(L *lua.LState, e error) int {
	L.Push(lua.LNil)
	L.Push(st.errObj(L, toErrno(e)))
	return 2
}

func toErrno(e error) unix.Errno {
	if en, ok := e.(unix.Errno); ok {
		return en
	}
	return unix.EINVAL
}

// retInt pushes n (or nil, err) and returns the result count.
func (st *state) retInt(L *lua.LState, n int, e error) int {
	if e != nil {
		return st.pushErr(L, e)
	}
	L.Push(Int(n))
	return 1
}

// retBool pushes true (or nil, err).
func (st *state) retBool(L *lua.LState, e error) int {
	if e != nil {
		return st.pushErr(L, e)
	}
	L.Push(lua.LTrue)
	return 1
}

// --- addrinfo ---

// NewAddrInfo makes the `ai` table handed to socket hooks: ai_flags,
// ai_family, ai_socktype, ai_protocol, ai_addrlen and ai_addr (a sockaddr
// object: family/sa_family, port, addr, address); ai_canonname and ai_next
// are nil. Each call makes a new table.
func NewAddrInfo(L *lua.LState, ai *kit.AddrInfo) lua.LValue {
	st := mustState(L)
	t := L.NewTable()
	sa := sockaddrFromAddrPort(ai.Family, ai.Addr)
	t.RawSetString("ai_flags", Int(ai.Flags))
	t.RawSetString("ai_family", Int(ai.Family))
	t.RawSetString("ai_socktype", Int(ai.SockType))
	t.RawSetString("ai_protocol", Int(ai.Protocol))
	t.RawSetString("ai_addrlen", Int(int(sa.n)))
	t.RawSetString("ai_addr", st.newUD(L, tSockaddr, sa))
	return t
}

// --- misc ---

func fmtErr(format string, args ...any) error { return fmt.Errorf(format, args...) }

func upper(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
