package lsys

import (
	"fmt"
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Whether a Go function was tail-called by the bottom Lua frame of its
// state is not in gopher-lua's API, but its call frames hold it: a Go
// function called by TAILCALL gets a frame whose ReturnBase is its
// caller's (its results go where the caller's would have gone), where a
// CALL, a metamethod or a pcall gives it one above the caller's
// registers. frameLayout finds the fields this needs by reflection at
// start: LState's currentFrame, and callFrame's Parent and ReturnBase (and
// Fn and Pc, to tell where the call was made). If gopher-lua ever renames
// or retypes them, tail calls are simply never recognised, and every call
// is made in place. TestFrameLayout fails then, to say so.
var frameLayout = findFrameLayout()

type frameOffsets struct {
	ok                               bool
	current, parent, retBase, fn, pc uintptr
}

func findFrameLayout() frameOffsets {
	cur, ok := reflect.TypeFor[lua.LState]().FieldByName("currentFrame")
	if !ok || cur.Type.Kind() != reflect.Pointer || cur.Type.Elem().Kind() != reflect.Struct {
		return frameOffsets{}
	}
	frame := cur.Type.Elem()
	parent, ok1 := frame.FieldByName("Parent")
	retBase, ok2 := frame.FieldByName("ReturnBase")
	fn, ok3 := frame.FieldByName("Fn")
	pc, ok4 := frame.FieldByName("Pc")
	intType := reflect.TypeFor[int]()
	if !ok1 || !ok2 || !ok3 || !ok4 || parent.Type != cur.Type || retBase.Type != intType ||
		pc.Type != intType || fn.Type != reflect.TypeFor[*lua.LFunction]() {
		return frameOffsets{}
	}
	return frameOffsets{ok: true, current: cur.Offset, parent: parent.Offset, retBase: retBase.Offset, fn: fn.Offset, pc: pc.Offset}
}

// bottomTailCaller reports whether the running Go function was called by
// a tail call (`return f(...)`) of the Lua function at the bottom of L's
// stack, so that no more Lua code runs in this call of L once it returns,
// and if so which function made the call and its program counter.
func bottomTailCaller(L *lua.LState) (caller *lua.LFunction, pc int, ok bool) {
	fl := &frameLayout
	if !fl.ok {
		return nil, 0, false
	}
	cur := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), fl.current))
	if cur == nil {
		return nil, 0, false
	}
	parent := *(*unsafe.Pointer)(unsafe.Add(cur, fl.parent))
	if parent == nil || *(*unsafe.Pointer)(unsafe.Add(parent, fl.parent)) != nil ||
		*(*int)(unsafe.Add(cur, fl.retBase)) != *(*int)(unsafe.Add(parent, fl.retBase)) {
		return nil, 0, false
	}
	return *(**lua.LFunction)(unsafe.Add(parent, fl.fn)), *(*int)(unsafe.Add(parent, fl.pc)), true
}

// where is the source position of the instruction before pc in fn, as
// gopher-lua prefixes an error raised there ("chunk:line").
func where(fn *lua.LFunction, pc int) string {
	if fn == nil || fn.Proto == nil || pc < 1 || pc > len(fn.Proto.DbgSourcePositions) {
		return ""
	}
	return fmt.Sprintf("%s:%d", fn.Proto.SourceName, fn.Proto.DbgSourcePositions[pc-1])
}
