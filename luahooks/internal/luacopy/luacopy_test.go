package luacopy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"
)

// wrap is the test's collect() wrapper: a userdata holding the wrapped value.
type wrap struct{ v lua.LValue }

func isWrapper(v lua.LValue) (lua.LValue, bool) {
	if ud, ok := v.(*lua.LUserData); ok {
		if w, ok := ud.Value.(*wrap); ok {
			return w.v, true
		}
	}
	return nil, false
}

func collect(L *lua.LState) int {
	ud := L.NewUserData()
	ud.Value = &wrap{L.Get(1)}
	L.Push(ud)
	return 1
}

// point is a userdata value that can be copied. withMT makes CopyTo set the
// destination's own "point" metatable.
type point struct {
	X, Y   float64
	withMT bool
}

func (p *point) CopyTo(to *lua.LState) lua.LValue {
	ud := to.NewUserData()
	q := *p
	ud.Value = &q
	if p.withMT {
		ud.Metatable = to.GetTypeMetatable("point")
	}
	return ud
}

// registerPoint defines point(x, y[, withMT]) and the "point" metatable, whose
// fields x, y and side ("src"/"dst") read the userdata.
func registerPoint(L *lua.LState, side string) {
	mt := L.NewTypeMetatable("point")
	L.SetField(mt, "__index", L.NewFunction(func(L *lua.LState) int {
		p := L.CheckUserData(1).Value.(*point)
		switch L.CheckString(2) {
		case "x":
			L.Push(lua.LNumber(p.X))
		case "y":
			L.Push(lua.LNumber(p.Y))
		case "side":
			L.Push(lua.LString(side))
		default:
			L.Push(lua.LNil)
		}
		return 1
	}))
	L.SetGlobal("point", L.NewFunction(func(L *lua.LState) int {
		ud := L.NewUserData()
		ud.Value = &point{X: float64(L.CheckNumber(1)), Y: float64(L.CheckNumber(2)), withMT: L.ToBool(3)}
		ud.Metatable = mt
		L.Push(ud)
		return 1
	}))
}

type env struct {
	from, to *lua.LState
	c        *Copier
}

// setup runs script in a new source state and returns it with a new
// destination state and a Copier between them (globals mapped, wrappers on).
func setup(t testing.TB, script string) env {
	t.Helper()
	from, to := lua.NewState(), lua.NewState()
	t.Cleanup(from.Close)
	t.Cleanup(to.Close)
	from.SetGlobal("collect", from.NewFunction(collect))
	registerPoint(from, "src")
	registerPoint(to, "dst")
	from.SetGlobal("greeting", lua.LString("hello from source"))
	to.SetGlobal("greeting", lua.LString("hello from destination"))
	if err := from.DoString(script); err != nil {
		t.Fatalf("script: %v", err)
	}
	c := New(from, to)
	c.IsWrapper = isWrapper
	c.Map(from.G.Global, to.G.Global)
	return env{from, to, c}
}

// call calls fn in L and returns its results as Go values.
func call(t testing.TB, L *lua.LState, fn lua.LValue, args ...lua.LValue) []any {
	t.Helper()
	top := L.GetTop()
	if err := L.CallByParam(lua.P{Fn: fn, NRet: lua.MultRet, Protect: true}, args...); err != nil {
		t.Fatalf("call: %v", err)
	}
	var out []any
	for i := top + 1; i <= L.GetTop(); i++ {
		out = append(out, goValue(L.Get(i)))
	}
	L.SetTop(top)
	return out
}

// goValue converts a Lua value to Go for cmp: a table becomes a map keyed by
// the keys' strings, a table met again on the way down "<cycle>".
func goValue(v lua.LValue) any { return goValueSeen(v, map[*lua.LTable]bool{}) }

func goValueSeen(v lua.LValue, seen map[*lua.LTable]bool) any {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		return bool(v)
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		return string(v)
	case *lua.LTable:
		if seen[v] {
			return "<cycle>"
		}
		seen[v] = true
		defer delete(seen, v)
		m := map[string]any{}
		v.ForEach(func(k, x lua.LValue) { m[k.String()] = goValueSeen(x, seen) })
		return m
	}
	return v.Type().String()
}

func TestScalars(t *testing.T) {
	e := setup(t, "")
	for _, v := range []lua.LValue{lua.LNil, lua.LTrue, lua.LFalse, lua.LNumber(0), lua.LNumber(-1.5), lua.LString(""), lua.LString("x\x00y")} {
		got, err := e.c.Copy(v, "v")
		if err != nil {
			t.Fatal(err)
		}
		if got != v {
			t.Errorf("Copy(%v) = %v", v, got)
		}
	}
}

// TestHooks copies global hook functions (with one Copier) and runs them in
// the destination.
func TestHooks(t *testing.T) {
	tests := []struct {
		name   string
		script string
		hooks  []string // copied in this order; calls index into it
		calls  []struct {
			hook int
			args []lua.LValue
		}
		want  [][]any // results of each call
		noSrc bool    // the hooks cannot run in the source (wrappers)
	}{
		{
			name: "nested tables",
			script: `local cfg = {a = {b = {c = 1}}, list = {1, 2, 3}, s = "x", [1.5] = "f", [true] = "t"}
				function hook() return cfg.a.b.c, #cfg.list, cfg.s, cfg[1.5], cfg[true] end`,
			hooks: []string{"hook"}, calls: calls0(0), want: [][]any{{1.0, 3.0, "x", "f", "t"}},
		},
		{
			name: "table referenced twice stays one table",
			script: `local t = {n = 0}; local cfg = {x = t, y = t}
				function hook() cfg.x.n = cfg.x.n + 1; return cfg.x == cfg.y, cfg.y.n end`,
			hooks: []string{"hook"}, calls: calls0(0, 0), want: [][]any{{true, 1.0}, {true, 2.0}},
		},
		{
			name: "cycles",
			script: `local t = {}; t.self = t
				local a, b = {name = "a"}, {name = "b"}; a.b = b; b.a = a
				function hook() return t.self == t, t.self.self == t, a.b.a == a, b.a.b == b, a.b.a.b.name end`,
			hooks: []string{"hook"}, calls: calls0(0), want: [][]any{{true, true, true, true, "b"}},
		},
		{
			name: "metatables",
			script: `local mt = {__index = function(t, k) return k .. "!" end}
				local o1, o2 = setmetatable({}, mt), setmetatable({v = 1}, mt)
				local cls = {}; cls.__index = cls; function cls.get(self) return self.v end
				local obj = setmetatable({v = 42}, cls)
				function hook() return o1.foo, getmetatable(o1) == getmetatable(o2), obj:get(), getmetatable(obj) == cls end`,
			hooks: []string{"hook"}, calls: calls0(0), want: [][]any{{"foo!", true, 42.0, true}},
		},
		{
			name: "two closures share an upvalue",
			script: `local n = 0
				function inc() n = n + 1; return n end
				function get() return n end`,
			hooks: []string{"inc", "get"}, calls: calls0(0, 0, 1), want: [][]any{{1.0}, {2.0}, {2.0}},
		},
		{
			name: "closure in an upvalue with its own upvalues",
			script: `local function mk(step) local c = 0; return function() c = c + step; return c end end
				local counter, by10 = mk(1), mk(10)
				function hook() return counter(), by10() end`,
			hooks: []string{"hook"}, calls: calls0(0, 0), want: [][]any{{1.0, 10.0}, {2.0, 20.0}},
		},
		{
			name: "recursion",
			script: `local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
				function hook(n) return fact(n) end`,
			hooks: []string{"hook"},
			calls: []struct {
				hook int
				args []lua.LValue
			}{{0, []lua.LValue{lua.LNumber(5)}}},
			want: [][]any{{120.0}},
		},
		{
			name:   "globals are the destination's",
			script: `function hook() x_set_by_hook = 1; return greeting, string.upper("a") end`,
			hooks:  []string{"hook"}, calls: calls0(0), want: [][]any{{"hello from destination", "A"}},
		},
		{
			name: "tables and functions as keys",
			script: `local k, f = {}, function() return 7 end
				local t = {[k] = "tk", [f] = "fk"}
				local holder = {k = k, f = f, t = t}
				function hook() return holder.t[holder.k], holder.t[holder.f], holder.f() end`,
			hooks: []string{"hook"}, calls: calls0(0), want: [][]any{{"tk", "fk", 7.0}},
		},
		{
			name:   "Go function in an upvalue",
			script: `local fmt = string.format; function hook() return fmt("%d-%s", 5, "x") end`,
			hooks:  []string{"hook"}, calls: calls0(0), want: [][]any{{"5-x"}},
		},
		{
			name: "userdata with CopyTo, metatable copied",
			script: `local p = point(1, 2)
				function hook() return p.x, p.y, p.side end`,
			hooks: []string{"hook"}, calls: calls0(0), want: [][]any{{1.0, 2.0, "src"}},
		},
		{
			name: "userdata with CopyTo setting the metatable",
			script: `local p = point(3, 4, true); local same = {p, p}
				function hook() return p.x, p.y, p.side, same[1] == same[2], same[1] == p end`,
			hooks: []string{"hook"}, calls: calls0(0), want: [][]any{{3.0, 4.0, "dst", true, true}},
		},
		{
			name: "wrapped upvalue mutated",
			script: `local stats = collect({recv = 0})
				function hook() stats.recv = stats.recv + 1; return stats.recv end`,
			hooks: []string{"hook"}, calls: calls0(0, 0), want: [][]any{{1.0}, {2.0}}, noSrc: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.script)
			var fns []lua.LValue
			for _, h := range tt.hooks {
				src := e.from.GetGlobal(h)
				cf, err := e.c.Copy(src, h)
				if err != nil {
					t.Fatalf("Copy(%s): %v", h, err)
				}
				if cf == src {
					t.Fatalf("Copy(%s) returned the source function", h)
				}
				fns = append(fns, cf)
			}
			var got [][]any
			for _, cl := range tt.calls {
				got = append(got, call(t, e.to, fns[cl.hook], cl.args...))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if tt.noSrc {
				return
			}
			// The source is unaffected: run the same calls there.
			var srcGot [][]any
			for _, cl := range tt.calls {
				srcGot = append(srcGot, call(t, e.from, e.from.GetGlobal(tt.hooks[cl.hook]), cl.args...))
			}
			if tt.name == "globals are the destination's" {
				tt.want[0][0] = "hello from source"
			}
			if tt.name == "userdata with CopyTo setting the metatable" {
				tt.want[0][2] = "src"
			}
			if diff := cmp.Diff(tt.want, srcGot); diff != "" {
				t.Errorf("source affected by the copy's calls (-want +got):\n%s", diff)
			}
		})
	}
}

func calls0(hooks ...int) []struct {
	hook int
	args []lua.LValue
} {
	var cs []struct {
		hook int
		args []lua.LValue
	}
	for _, h := range hooks {
		cs = append(cs, struct {
			hook int
			args []lua.LValue
		}{hook: h})
	}
	return cs
}

func TestSharedUpvalueIsolation(t *testing.T) {
	e := setup(t, `local n = 0
		function inc() n = n + 1; return n end
		function get() return n end`)
	inc, _ := e.c.Copy(e.from.GetGlobal("inc"), "inc")
	get, _ := e.c.Copy(e.from.GetGlobal("get"), "get")
	fi, fg := inc.(*lua.LFunction), get.(*lua.LFunction)
	if fi.Upvalues[0] != fg.Upvalues[0] {
		t.Fatal("copies do not share the upvalue")
	}
	if fi.Upvalues[0] == e.from.GetGlobal("inc").(*lua.LFunction).Upvalues[0] {
		t.Fatal("copy shares the source's upvalue")
	}
	if fi.Proto != e.from.GetGlobal("inc").(*lua.LFunction).Proto {
		t.Fatal("proto not shared")
	}
	call(t, e.to, inc)
	call(t, e.to, inc)
	if got := call(t, e.to, get); got[0] != 2.0 {
		t.Errorf("get in destination = %v, want 2", got)
	}
	if got := call(t, e.from, e.from.GetGlobal("get")); got[0] != 0.0 {
		t.Errorf("get in source = %v, want 0", got)
	}
	// A second Copier (another worker) has its own copy.
	c2 := New(e.from, e.to)
	c2.Map(e.from.G.Global, e.to.G.Global)
	get2, _ := c2.Copy(e.from.GetGlobal("get"), "get")
	if got := call(t, e.to, get2); got[0] != 0.0 {
		t.Errorf("get of second copy = %v, want 0", got)
	}
}

func TestEnvMapped(t *testing.T) {
	e := setup(t, `function hook() return greeting end`)
	cf, _ := e.c.Copy(e.from.GetGlobal("hook"), "hook")
	if env := cf.(*lua.LFunction).Env; env != e.to.G.Global {
		t.Fatalf("Env = %p, want the destination globals %p", env, e.to.G.Global)
	}
	e.to.SetGlobal("greeting", lua.LString("changed"))
	if got := call(t, e.to, cf); got[0] != "changed" {
		t.Errorf("got %v", got)
	}
}

func TestErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	tests := []struct {
		name, script, hook, want string
	}{
		{
			name:   "coroutine",
			script: `local co = {x = {1, 2, coroutine.create(function() end)}}; function client_sendmsg() return co end`,
			hook:   "client_sendmsg",
			want:   `cannot copy a coroutine (thread) in upvalue co of client_sendmsg: field "x"[3]`,
		},
		{
			name:   "open file",
			script: `local f = io.open(FILE, "w"); function hook() f:write("x") end`,
			hook:   "hook",
			want:   `cannot copy an open file (userdata) in upvalue f of hook`,
		},
		{
			name:   "channel",
			script: `local ch = channel.make(); function hook() return ch end`,
			hook:   "hook",
			want:   `cannot copy a channel in upvalue ch of hook`,
		},
		{
			name:   "plain userdata",
			script: `local t = {u = newproxy_ud}; function hook() return t end`,
			hook:   "hook",
			want:   `cannot copy a userdata (<nil>) in upvalue t of hook: field "u"`,
		},
		{
			name: "nested function",
			script: `local co = coroutine.create(function() end)
				local function helper() return co end
				local cfg = {cb = helper}
				function hook() return cfg end`,
			hook: "hook",
			want: `cannot copy a coroutine (thread) in upvalue co of upvalue cfg of hook: field "cb"`,
		},
		{
			name:   "metatable",
			script: `local t = setmetatable({}, {co = coroutine.create(function() end)}); function hook() return t end`,
			hook:   "hook",
			want:   `cannot copy a coroutine (thread) in metatable of upvalue t of hook: field "co"`,
		},
		{
			name:   "wrapper as key",
			script: `local t = {[collect(1)] = 2}; function hook() return t end`,
			hook:   "hook",
			want:   `cannot copy a collect() wrapper as a table key in a key of upvalue t of hook`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := lua.NewState()
			defer from.Close()
			to := lua.NewState()
			defer to.Close()
			from.SetGlobal("FILE", lua.LString(file))
			from.SetGlobal("collect", from.NewFunction(collect))
			from.SetGlobal("newproxy_ud", from.NewUserData())
			if err := from.DoString(tt.script); err != nil {
				t.Fatal(err)
			}
			c := New(from, to)
			c.IsWrapper = isWrapper
			c.Map(from.G.Global, to.G.Global)
			_, err := c.Copy(from.GetGlobal(tt.hook), tt.hook)
			if err == nil {
				t.Fatal("no error")
			}
			var ce *CopyError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *CopyError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s", err, tt.want)
			}
		})
	}
	os.Remove(file)
}

// slotView is a Slot as compared by the tests.
type slotView struct {
	Where string // "upvalue", "field <key>", "none"
	Value any
}

func view(c *Copier) []slotView {
	var out []slotView
	for _, s := range c.Slots {
		var v slotView
		switch {
		case s.Upvalue != nil:
			v.Where = "upvalue"
		case s.Table != nil:
			v.Where = "field " + s.Key.String()
		default:
			v.Where = "none"
		}
		v.Value = goValue(s.Value())
		out = append(out, v)
	}
	return out
}

func TestWrappers(t *testing.T) {
	tests := []struct {
		name, script string
		hooks        []string
		calls        []int // hooks to call, in order
		want         []slotView
		check        func(t *testing.T, e env, fns []lua.LValue)
	}{
		{
			name:   "upvalue table mutated",
			script: `local stats = collect({recv = 0}); function hook() stats.recv = stats.recv + 1 end`,
			hooks:  []string{"hook"}, calls: []int{0, 0},
			want: []slotView{{"upvalue", map[string]any{"recv": 2.0}}},
		},
		{
			name:   "upvalue reassigned",
			script: `local fd = collect(-1); local n = 6; function hook() n = n + 1; fd = n end`,
			hooks:  []string{"hook"}, calls: []int{0},
			want: []slotView{{"upvalue", 7.0}},
		},
		{
			name:   "hook never ran",
			script: `local fd = collect(-1); function hook() fd = 1 end`,
			hooks:  []string{"hook"},
			want:   []slotView{{"upvalue", -1.0}},
		},
		{
			name:   "table field",
			script: `local cfg = {n = collect(0), m = 1}; function hook() cfg.n = cfg.n + 5 end`,
			hooks:  []string{"hook"}, calls: []int{0},
			want: []slotView{{"field n", 5.0}},
		},
		{
			name: "nested",
			script: `local outer = collect({inner = collect(0), other = 1})
				function hook() outer.inner = outer.inner + 1 end`,
			hooks: []string{"hook"}, calls: []int{0},
			want: []slotView{{"upvalue", map[string]any{"inner": 1.0, "other": 1.0}}, {"field inner", 1.0}},
		},
		{
			name: "reached twice",
			script: `local w = collect({c = 0}); local a, b = {w = w}, {w = w}
				function hook() a.w.c = a.w.c + 1; return b.w.c, a.w == b.w end`,
			hooks: []string{"hook"}, calls: []int{0},
			want: []slotView{{"field w", map[string]any{"c": 1.0}}, {"field w", map[string]any{"c": 1.0}}},
			check: func(t *testing.T, e env, fns []lua.LValue) {
				s := e.c.Slots
				if s[0].Value() != s[1].Value() || s[0].Wrapper != s[1].Wrapper || s[0].Table == s[1].Table {
					t.Errorf("slots %+v", s)
				}
			},
		},
		{
			name: "shared upvalue holding a wrapper is one slot",
			script: `local n = collect(0)
				function inc() n = n + 1 end
				function dec() n = n - 10 end`,
			hooks: []string{"inc", "dec"}, calls: []int{0, 0, 1},
			want: []slotView{{"upvalue", -8.0}},
		},
		{
			name: "wrapper in a closure's upvalue",
			script: `local function mk() local c = collect(0); return function() c = c + 1 end end
				local bump = mk()
				function hook() bump() end`,
			hooks: []string{"hook"}, calls: []int{0, 0, 0},
			want: []slotView{{"upvalue", 3.0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, tt.script)
			var fns []lua.LValue
			for _, h := range tt.hooks {
				cf, err := e.c.Copy(e.from.GetGlobal(h), h)
				if err != nil {
					t.Fatal(err)
				}
				fns = append(fns, cf)
			}
			for _, s := range e.c.Slots {
				if _, ok := isWrapper(s.Wrapper); !ok {
					t.Errorf("Slot.Wrapper %v is not a wrapper", s.Wrapper)
				}
			}
			for _, i := range tt.calls {
				call(t, e.to, fns[i])
			}
			if diff := cmp.Diff(tt.want, view(e.c)); diff != "" {
				t.Errorf("slots (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, e, fns)
			}
		})
	}
}

func TestWrapperTopLevelAndCopyField(t *testing.T) {
	e := setup(t, `cnt = collect(0); top = collect({k = 1})`)
	// A global copied with CopyField: the slot is the destination globals' field.
	if err := e.c.CopyField(e.to.G.Global, lua.LString("cnt"), e.from.GetGlobal("cnt"), "global cnt"); err != nil {
		t.Fatal(err)
	}
	if err := e.from.DoString(`function hook() cnt = cnt + 1 end`); err != nil {
		t.Fatal(err)
	}
	hook, err := e.c.Copy(e.from.GetGlobal("hook"), "hook")
	if err != nil {
		t.Fatal(err)
	}
	call(t, e.to, hook)
	call(t, e.to, hook)
	// A wrapper given to Copy itself: a slot with no place.
	v, err := e.c.Copy(e.from.GetGlobal("top"), "global top")
	if err != nil {
		t.Fatal(err)
	}
	v.(*lua.LTable).RawSetString("k", lua.LNumber(2))
	want := []slotView{{"field cnt", 2.0}, {"none", map[string]any{"k": 2.0}}}
	if diff := cmp.Diff(want, view(e.c)); diff != "" {
		t.Errorf("slots (-want +got):\n%s", diff)
	}
	if e.c.Slots[0].Table != e.to.G.Global {
		t.Error("slot table is not the destination globals")
	}
	if got := e.to.GetGlobal("cnt"); got != lua.LNumber(2) {
		t.Errorf("destination cnt = %v", got)
	}
	if got := e.from.GetGlobal("cnt"); got.Type() != lua.LTUserData {
		t.Errorf("source cnt = %v, want the wrapper", got)
	}
}

func TestMatchGoFunctions(t *testing.T) {
	e := setup(t, `local w, fmt = io.write, string.format
		function hook() w("x"); return fmt("%d", 1), type(print) end`)
	e.c.GoFunction = MatchGoFunctions(e.from.G.Global, e.to.G.Global, 2)
	cf, err := e.c.Copy(e.from.GetGlobal("hook"), "hook")
	if err != nil {
		t.Fatal(err)
	}
	fn := cf.(*lua.LFunction)
	wantW := e.to.GetField(e.to.GetGlobal("io"), "write")
	wantF := e.to.GetField(e.to.GetGlobal("string"), "format")
	if fn.Upvalues[0].Value() != wantW || fn.Upvalues[1].Value() != wantF {
		t.Errorf("upvalues not mapped to the destination's io.write and string.format")
	}
	if wantW == e.from.GetField(e.from.GetGlobal("io"), "write") {
		t.Fatal("states share io.write")
	}
	if err := e.to.DoString(`io.output(io.open("/dev/null", "w"))`); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"1", "function"}, call(t, e.to, cf)); diff != "" {
		t.Error(diff)
	}
}

// TestRoundTrip copies hooks to a worker state, runs them, and copies the
// collected values and the hooks back into the main state.
func TestRoundTrip(t *testing.T) {
	e := setup(t, `local shared = {name = "s"}; shared.self = shared
		local s = {recv = 0, hist = {}, shared = shared}
		local stats = collect(s)
		local cfg = {shared = shared, step = 2}
		function hook(n) stats.recv = stats.recv + cfg.step; stats.hist[#stats.hist + 1] = n; return stats.shared == cfg.shared end
		function peek() return s end`)
	hook, err := e.c.Copy(e.from.GetGlobal("hook"), "hook")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Copy(e.from.GetGlobal("peek"), "peek"); err != nil {
		t.Fatal(err)
	}
	if got := call(t, e.to, hook, lua.LNumber(10)); got[0] != true {
		t.Fatalf("identity lost: %v", got)
	}
	call(t, e.to, hook, lua.LNumber(20))
	if len(e.c.Slots) != 1 {
		t.Fatalf("slots %d", len(e.c.Slots))
	}
	// Back: worker → main.
	back := New(e.to, e.from)
	back.Map(e.to.G.Global, e.from.G.Global)
	wv := e.c.Slots[0].Value()
	mv, err := back.Copy(wv, "collected stats")
	if err != nil {
		t.Fatal(err)
	}
	checkIso(t, wv, mv, e.to.G.Global, e.from.G.Global)
	mt := mv.(*lua.LTable)
	if got := goValue(mt.RawGetString("recv")); got != 4.0 {
		t.Errorf("recv = %v", got)
	}
	if diff := cmp.Diff(map[string]any{"1": 10.0, "2": 20.0}, goValue(mt.RawGetString("hist"))); diff != "" {
		t.Error(diff)
	}
	sh := mt.RawGetString("shared").(*lua.LTable)
	if sh.RawGetString("self") != sh {
		t.Error("cycle lost on the way back")
	}
	// The hook copied back with the same Copier runs in the main state and
	// sees the stats table copied back before (identity across Copy calls).
	hook2, err := back.Copy(hook, "hook")
	if err != nil {
		t.Fatal(err)
	}
	call(t, e.from, hook2, lua.LNumber(30))
	if got := goValue(mt.RawGetString("recv")); got != 6.0 {
		t.Errorf("copied-back hook did not update the copied-back stats: recv = %v", got)
	}
	if got := goValue(wv.(*lua.LTable).RawGetString("recv")); got != 4.0 {
		t.Errorf("worker stats changed by the main state's hook: %v", got)
	}
	// The original source state is untouched.
	res := call(t, e.from, e.from.GetGlobal("peek"))
	if res[0].(map[string]any)["recv"] != 0.0 {
		t.Errorf("source stats changed: %v", res)
	}
}

// TestConcurrentCopies copies one source into several states at once (run
// with -race): a Copier only reads its source.
func TestConcurrentCopies(t *testing.T) {
	e := setup(t, `local n = collect(0); local cfg = {a = {1, 2, 3}}; cfg.self = cfg
		local function mk() local c = 0; return function() c = c + 1; return c end end
		local ctr = mk()
		function h1() n = n + ctr(); return n end
		function h2() return cfg.a[2] end`)
	const workers = 8
	var wg sync.WaitGroup
	results := make([]float64, workers)
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := lua.NewState()
			defer to.Close()
			c := New(e.from, to)
			c.IsWrapper = isWrapper
			c.Map(e.from.G.Global, to.G.Global)
			var fns []lua.LValue
			for _, h := range []string{"h1", "h2"} {
				f, err := c.Copy(e.from.G.Global.RawGetString(h), h)
				if err != nil {
					errs[w] = err
					return
				}
				fns = append(fns, f)
			}
			for i := 0; i <= w; i++ {
				if err := to.CallByParam(lua.P{Fn: fns[0], NRet: 1, Protect: true}); err != nil {
					errs[w] = err
					return
				}
				to.Pop(1)
			}
			results[w] = float64(c.Slots[0].Value().(lua.LNumber))
		}()
	}
	wg.Wait()
	for w := 0; w < workers; w++ {
		if errs[w] != nil {
			t.Fatal(errs[w])
		}
		k := float64(w + 1)
		if want := k * (k + 1) / 2; results[w] != want {
			t.Errorf("worker %d: %v, want %v", w, results[w], want)
		}
	}
}

// iso checks that dst is a copy of src: same shape, same scalars, same
// sharing, wrappers replaced by their contents, and nothing mutable shared.
type iso struct {
	fwd, bwd     map[any]any // tables, Lua functions, userdata, upvalues
	done         map[any]bool
	srcG, dstG   *lua.LTable
	wrappers     int // wrappers met at a field or upvalue
	wrapperCheck func(w lua.LValue, dst lua.LValue)
}

func newIso(srcG, dstG *lua.LTable) *iso {
	return &iso{fwd: map[any]any{}, bwd: map[any]any{}, done: map[any]bool{}, srcG: srcG, dstG: dstG}
}

func checkIso(t testing.TB, src, dst lua.LValue, srcG, dstG *lua.LTable) {
	t.Helper()
	k := newIso(srcG, dstG)
	if err := k.check(src, dst, "root"); err != nil {
		t.Fatal(err)
	}
	if err := k.disjoint(); err != nil {
		t.Fatal(err)
	}
}

func (k *iso) bind(a, b any, path string) (bool, error) {
	if a == any(k.srcG) {
		if b != any(k.dstG) {
			return false, fmt.Errorf("%s: source globals copied to %v", path, b)
		}
		return false, nil
	}
	fa, okA := k.fwd[a]
	fb, okB := k.bwd[b]
	switch {
	case okA && fa != b:
		return false, fmt.Errorf("%s: %v copied to both %v and %v", path, a, fa, b)
	case okB && fb != a:
		return false, fmt.Errorf("%s: %v is the copy of both %v and %v", path, b, fb, a)
	}
	k.fwd[a], k.bwd[b] = b, a
	if k.done[a] {
		return false, nil
	}
	k.done[a] = true
	return true, nil
}

// mapKey returns the destination key for source key key.
func (k *iso) mapKey(key lua.LValue) (lua.LValue, error) {
	switch key.Type() {
	case lua.LTNumber, lua.LTString, lua.LTBool:
		return key, nil
	}
	if f, ok := key.(*lua.LFunction); ok && f.IsG {
		return f, nil
	}
	if d, ok := k.fwd[key]; ok {
		return d.(lua.LValue), nil
	}
	return nil, fmt.Errorf("key %v not mapped yet", key)
}

func (k *iso) unwrap(a, b lua.LValue) lua.LValue {
	for {
		inner, ok := isWrapper(a)
		if !ok {
			return a
		}
		k.wrappers++
		if k.wrapperCheck != nil {
			k.wrapperCheck(a, b)
		}
		a = inner
	}
}

func (k *iso) check(a, b lua.LValue, path string) error {
	if a == nil { // a zero lua.Upvalue{} holds a Go nil
		a = lua.LNil
	}
	if a.Type() != b.Type() {
		return fmt.Errorf("%s: type %s copied as %s", path, a.Type(), b.Type())
	}
	switch a.Type() {
	case lua.LTNil, lua.LTBool, lua.LTNumber, lua.LTString:
		if a != b {
			return fmt.Errorf("%s: %v copied as %v", path, a, b)
		}
		return nil
	}
	switch a := a.(type) {
	case *lua.LTable:
		bt := b.(*lua.LTable)
		if fresh, err := k.bind(a, bt, path); !fresh || err != nil {
			return err
		}
		if a == bt {
			return fmt.Errorf("%s: table shared", path)
		}
		if (a.Metatable == lua.LNil) != (bt.Metatable == lua.LNil) {
			return fmt.Errorf("%s: metatable %v copied as %v", path, a.Metatable, bt.Metatable)
		}
		if a.Metatable != lua.LNil {
			if err := k.check(a.Metatable, bt.Metatable, path+".<mt>"); err != nil {
				return err
			}
		}
		n := 0
		var err error
		a.ForEach(func(key, v lua.LValue) {
			n++
			if err != nil {
				return
			}
			var dk lua.LValue
			if dk, err = k.mapKey(key); err != nil {
				err = fmt.Errorf("%s: %w", path, err)
				return
			}
			dv := bt.RawGet(dk)
			err = k.check(k.unwrap(v, dv), dv, fmt.Sprintf("%s[%v]", path, key))
		})
		if err != nil {
			return err
		}
		m := 0
		bt.ForEach(func(_, _ lua.LValue) { m++ })
		if n != m {
			return fmt.Errorf("%s: %d entries copied as %d", path, n, m)
		}
	case *lua.LFunction:
		bf := b.(*lua.LFunction)
		if a.IsG {
			if bf != a {
				return fmt.Errorf("%s: Go function not shared", path)
			}
			return nil
		}
		if fresh, err := k.bind(a, bf, path); !fresh || err != nil {
			return err
		}
		if bf.Proto != a.Proto || len(bf.Upvalues) != len(a.Upvalues) || bf == a {
			return fmt.Errorf("%s: function badly copied", path)
		}
		if _, err := k.bind(a.Env, bf.Env, path+".<env>"); err != nil {
			return err
		}
		for i, uv := range a.Upvalues {
			buv := bf.Upvalues[i]
			if buv == uv {
				return fmt.Errorf("%s: upvalue %d shared", path, i)
			}
			fresh, err := k.bind(uv, buv, path)
			if err != nil {
				return err
			}
			if fresh {
				dv := buv.Value()
				if err := k.check(k.unwrap(uv.Value(), dv), dv, fmt.Sprintf("%s.<uv%d>", path, i)); err != nil {
					return err
				}
			}
		}
	case *lua.LUserData:
		bu := b.(*lua.LUserData)
		if _, err := k.bind(a, bu, path); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s: unexpected %T", path, a)
	}
	return nil
}

// disjoint checks that no destination object is a source object.
func (k *iso) disjoint() error {
	for b := range k.bwd {
		if _, ok := k.fwd[b]; ok {
			return fmt.Errorf("%v is both a source and a copy", b)
		}
	}
	return nil
}

func TestIsoOnHookGraph(t *testing.T) {
	e := setup(t, `local n = collect(0); local t = {a = {}, b = collect({x = 1})}; t.a.t = t
		local k = {}; t[k] = k
		local function f() return t, n end
		function hook() return f() end`)
	src := e.from.GetGlobal("hook")
	dst, err := e.c.Copy(src, "hook")
	if err != nil {
		t.Fatal(err)
	}
	k := newIso(e.from.G.Global, e.to.G.Global)
	// Pre-bind the table key k: reach it through t.
	st := e.from.GetGlobal("hook").(*lua.LFunction).Upvalues[0].Value().(*lua.LFunction).Upvalues[0].Value().(*lua.LTable)
	dt := dst.(*lua.LFunction).Upvalues[0].Value().(*lua.LFunction).Upvalues[0].Value().(*lua.LTable)
	var keys []lua.LValue
	st.ForEach(func(key, _ lua.LValue) {
		if key.Type() == lua.LTTable {
			keys = append(keys, key)
		}
	})
	var dkeys []lua.LValue
	dt.ForEach(func(key, _ lua.LValue) {
		if key.Type() == lua.LTTable {
			dkeys = append(dkeys, key)
		}
	})
	if len(keys) != 1 || len(dkeys) != 1 {
		t.Fatalf("keys %v %v", keys, dkeys)
	}
	k.fwd[keys[0]], k.bwd[dkeys[0]] = dkeys[0], keys[0]
	if err := k.check(src, dst, "hook"); err != nil {
		t.Fatal(err)
	}
	if err := k.disjoint(); err != nil {
		t.Fatal(err)
	}
	if k.wrappers != len(e.c.Slots) {
		t.Errorf("%d wrappers, %d slots", k.wrappers, len(e.c.Slots))
	}
	names := []string{}
	for _, s := range e.c.Slots {
		names = append(names, fmt.Sprint(s.Upvalue != nil))
	}
	sort.Strings(names)
	if diff := cmp.Diff([]string{"false", "true"}, names); diff != "" {
		t.Error(diff)
	}
}

// TestCopyInsideRun copies while the source is inside a Go call from its main
// chunk, as the engine's run() does: the script's locals are then open
// upvalues, read from the source's stack.
func TestCopyInsideRun(t *testing.T) {
	from, to := lua.NewState(), lua.NewState()
	defer from.Close()
	defer to.Close()
	from.SetGlobal("collect", from.NewFunction(collect))
	var c *Copier
	var hook lua.LValue
	from.SetGlobal("run", from.NewFunction(func(L *lua.LState) int {
		c = New(L, to)
		c.IsWrapper = isWrapper
		c.Map(L.G.Global, to.G.Global)
		var err error
		if hook, err = c.Copy(L.GetGlobal("hook"), "hook"); err != nil {
			L.RaiseError("%v", err)
		}
		return 0
	}))
	err := from.DoString(`
		local n = 5
		local stats = collect({c = 0})
		local co = coroutine.create(function() local x = 7; g = function() x = x + 1; return x end; coroutine.yield() end)
		coroutine.resume(co)
		local gg = g
		function hook() n = n + 1; stats = n; return n, gg() end
		run()
		n = 100
		function getn() return n, gg() end`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{6.0, 8.0}, call(t, to, hook)); diff != "" {
		t.Errorf("copy (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{100.0, 8.0}, call(t, from, from.GetGlobal("getn"))); diff != "" {
		t.Errorf("source (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]slotView{{"upvalue", 6.0}}, view(c)); diff != "" {
		t.Errorf("slots (-want +got):\n%s", diff)
	}
}

func TestMapUserData(t *testing.T) {
	e := setup(t, `local out = io.stdout; function hook() return io.type(out), out == io.stdout end`)
	if _, err := e.c.Copy(e.from.GetGlobal("hook"), "hook"); err == nil {
		t.Fatal("copied an open file")
	}
	c := New(e.from, e.to)
	c.Map(e.from.G.Global, e.to.G.Global)
	stdout := func(L *lua.LState) *lua.LUserData {
		return L.GetField(L.GetGlobal("io"), "stdout").(*lua.LUserData)
	}
	c.MapUserData(stdout(e.from), stdout(e.to))
	hook, err := c.Copy(e.from.GetGlobal("hook"), "hook")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"file", true}, call(t, e.to, hook)); diff != "" {
		t.Error(diff)
	}
}
