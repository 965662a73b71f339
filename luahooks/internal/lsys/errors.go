package lsys

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// errVal is the error a wrapper returns as the second value of nil, err.
// Error objects are immutable; a state makes one per errno and reuses it.
type errVal struct{ errno unix.Errno }

// CopyTo implements the engine's cross-state copy.
func (e *errVal) CopyTo(to *lua.LState) lua.LValue {
	if st := stateOf(to); st != nil {
		return st.errObj(to, e.errno)
	}
	return udTo(to, tError, &errVal{e.errno})
}

// Errno reports the errno of a wrapper's error value (the err of nil, err).
func Errno(v lua.LValue) (unix.Errno, bool) {
	if ud, ok := v.(*lua.LUserData); ok {
		if e, ok := ud.Value.(*errVal); ok {
			return e.errno, true
		}
	}
	return 0, false
}

// errObj returns the state's error object for errno e.
func (st *state) errObj(L *lua.LState, e unix.Errno) *lua.LUserData {
	if e < maxCachedErrno {
		if ud := st.errs[e]; ud != nil {
			return ud
		}
		ud := st.newUD(L, tError, &errVal{e})
		st.errs[e] = ud
		return ud
	}
	return st.newUD(L, tError, &errVal{e})
}

func (st *state) initErrorType(L *lua.LState) {
	st.setMeta(st.mt[tError], map[string]func(*state, *lua.LState) int{
		"__index": func(st *state, L *lua.LState) int {
			e := checkUD[*errVal](L, 1, "error")
			k := L.CheckString(2)
			switch k {
			case "errno":
				L.Push(Int(int(e.errno)))
			case "sym":
				L.Push(lua.LString(errnoSym(e.errno)))
			case "lsym":
				L.Push(lua.LString(strings.ToLower(errnoSym(e.errno))))
			default:
				name := strings.TrimPrefix(k, "E")
				v, ok := grpE.byName[name]
				if !ok {
					if v, ok = grpE.byName[k]; !ok {
						L.RaiseError("invalid error field %q (an errno name such as AGAIN, or errno, sym)", k)
					}
				}
				L.Push(lua.LBool(unix.Errno(v) == e.errno))
			}
			return 1
		},
		"__newindex": func(st *state, L *lua.LState) int {
			L.RaiseError("attempt to set field %s of an error (errors are read-only)", L.Get(2).String())
			return 0
		},
		"__tostring": func(st *state, L *lua.LState) int {
			e := checkUD[*errVal](L, 1, "error")
			L.Push(lua.LString(e.errno.Error()))
			return 1
		},
		"__eq": func(st *state, L *lua.LState) int {
			a, aok := Errno(L.Get(1))
			b, bok := Errno(L.Get(2))
			L.Push(lua.LBool(aok && bok && a == b))
			return 1
		},
		"__concat": func(st *state, L *lua.LState) int {
			L.Push(lua.LString(luaToString(L, L.Get(1)) + luaToString(L, L.Get(2))))
			return 1
		},
	})
}

// luaToString is tostring() for a value that may be an error.
func luaToString(L *lua.LState, v lua.LValue) string {
	if e, ok := Errno(v); ok {
		return e.Error()
	}
	if s, ok := v.(lua.LString); ok {
		return string(s)
	}
	if n, ok := v.(lua.LNumber); ok {
		return n.String()
	}
	L.RaiseError("attempt to concatenate a %s value", typeName(v))
	return ""
}

// newError is S.t.error(errno): an error object for a number or a name.
func newError(st *state, L *lua.LState) int {
	e := flagArg(L, 1, grpE)
	L.Push(st.errObj(L, unix.Errno(e)))
	return 1
}
