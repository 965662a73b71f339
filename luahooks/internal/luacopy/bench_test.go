package luacopy

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

const typicalHooks = `
local stats = collect({sent = 0, recv = 0, bytes = 0, hist = {}})
local cfg = {size = 1024, flags = {nodelay = true, prio = 3}, names = {"a", "b", "c"}}
local fd = collect(-1)
local fmt = string.format
local function bump(t, k, n) t[k] = t[k] + n end
function client_sendmsg(s, msg, flags) bump(stats, "sent", 1); bump(stats, "bytes", cfg.size); return cfg.size end
function client_recvmsg(s, msg, flags) bump(stats, "recv", 1); stats.hist[#stats.hist + 1] = 1; return cfg.size end
function client_socket(s) fd = s; return fmt("%d %s", s, cfg.names[1]) end
`

// BenchmarkCopyHooks copies a typical hook set (3 closures sharing upvalues,
// two collect() wrappers, a few tables) into a worker state.
func BenchmarkCopyHooks(b *testing.B) {
	e := setup(b, typicalHooks)
	hooks := []string{"client_sendmsg", "client_recvmsg", "client_socket"}
	var srcs []lua.LValue
	for _, h := range hooks {
		srcs = append(srcs, e.from.GetGlobal(h))
	}
	b.ReportAllocs()
	for b.Loop() {
		c := New(e.from, e.to)
		c.IsWrapper = isWrapper
		c.Map(e.from.G.Global, e.to.G.Global)
		for i, src := range srcs {
			if _, err := c.Copy(src, hooks[i]); err != nil {
				b.Fatal(err)
			}
		}
		if len(c.Slots) != 2 {
			b.Fatalf("%d slots", len(c.Slots))
		}
	}
}

// TestTypicalHooksRun checks that the benchmark's hook set runs when copied.
func TestTypicalHooksRun(t *testing.T) {
	e := setup(t, typicalHooks)
	var fns []lua.LValue
	for _, h := range []string{"client_sendmsg", "client_recvmsg", "client_socket"} {
		f, err := e.c.Copy(e.from.GetGlobal(h), h)
		if err != nil {
			t.Fatal(err)
		}
		fns = append(fns, f)
	}
	call(t, e.to, fns[0], lua.LNumber(3))
	call(t, e.to, fns[1], lua.LNumber(3))
	if got := call(t, e.to, fns[2], lua.LNumber(9)); got[0] != "9 a" {
		t.Errorf("client_socket = %v", got)
	}
	stats := goValue(e.c.Slots[0].Value()).(map[string]any)
	if stats["sent"] != 1.0 || stats["recv"] != 1.0 || stats["bytes"] != 1024.0 {
		t.Errorf("stats %v", stats)
	}
	if got := e.c.Slots[1].Value(); got != lua.LNumber(9) {
		t.Errorf("fd = %v", got)
	}
}
