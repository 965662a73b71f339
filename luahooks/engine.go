package luahooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/luahooks/internal/lsys"
)

// hookNames are the registration functions, in the kit's terms.
var hookNames = []string{
	"client_socket", "server_socket", "client_close", "server_close",
	"client_sendmsg", "server_sendmsg", "client_recvmsg", "server_recvmsg",
	"client_recverr", "server_recverr",
}

// engine is one side's run of a script: the main state that runs the
// script's top level, the hooks it registered, its collect() wrappers and
// the per-worker states made when run() starts the workers.
type engine struct {
	script *Script
	side   kit.Side
	args   map[string]string
	out    *lineWriter // print, io.write, io.stdout
	err    *lineWriter // io.stderr

	L        *lua.LState
	prelude  map[string]lua.LValue // the main state's globals before the script ran
	hooks    map[string]*lua.LFunction
	wrapMeta *lua.LTable // the metatable that marks collect() wrappers
	wrappers []*lua.LTable
	ran      bool

	// runner runs the kit for this side with the given hook provider; set
	// by RunSide.
	runner func(kit.HookProvider) (*kit.Result, error)
	result *kit.Result
	runErr error
	// returned is set once run() has returned without an error: the
	// script's code after run() is running.
	returned bool
	stop     *mainStop // the main state's context

	mu      sync.Mutex
	workers []*workerState // by worker index
}

// close ends the engine's main state and writes out a last line the
// script left without a newline.
func (e *engine) close() {
	e.L.Close()
	e.out.flush()
	e.err.flush()
}

func newEngine(s *Script, side kit.Side, env Env) *engine {
	out, errOut := env.Out, env.Err
	if out == nil {
		out = io.Discard
	}
	if errOut == nil {
		errOut = os.Stderr
	}
	// Workers print from their own threads: one write at a time.
	e := &engine{script: s, side: side, args: env.Args, out: &lineWriter{w: out}, err: &lineWriter{w: errOut}, hooks: map[string]*lua.LFunction{}}
	e.L = e.newState(true)
	e.prelude = map[string]lua.LValue{}
	e.L.G.Global.ForEach(func(k, v lua.LValue) {
		if ks, ok := k.(lua.LString); ok {
			e.prelude[string(ks)] = v
		}
	})
	return e
}

// newState makes a state with the script API installed: the standard
// library, the socket layer, output to the run's writer, os.exit as an
// error value, and (main state only) hook registration, run and collect.
func (e *engine) newState(main bool) *lua.LState {
	L := lua.NewState(lua.Options{SkipOpenLibs: false})
	lsys.Open(L)
	g := L.G.Global
	L.SetField(g, "print", L.NewFunction(e.print))
	L.SetField(g, "assert", L.NewFunction(luaAssert))
	if io, ok := L.GetField(g, "io").(*lua.LTable); ok {
		L.SetField(io, "stdout", newWriterFile(L, "stdout", e.out))
		L.SetField(io, "stderr", newWriterFile(L, "stderr", e.err))
		L.SetField(io, "write", L.NewFunction(e.write))
	}
	if os, ok := L.GetField(g, "os").(*lua.LTable); ok {
		L.SetField(os, "exit", L.NewFunction(osExit))
	}
	L.SetField(g, "is_client", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LBool(e.side == kit.ClientSide)); return 1 }))
	L.SetField(g, "is_server", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LBool(e.side == kit.ServerSide)); return 1 }))
	args := L.NewTable()
	keys := make([]string, 0, len(e.args))
	for k := range e.args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		L.SetField(args, k, lua.LString(e.args[k]))
	}
	L.SetField(g, "args", args)
	for _, name := range hookNames {
		name := name
		L.SetField(g, name, L.NewFunction(func(L *lua.LState) int {
			if !main {
				L.RaiseError("%s: hooks are registered by the script's top level, before run()", name)
			}
			return e.register(L, name)
		}))
	}
	L.SetField(g, "run", L.NewFunction(func(L *lua.LState) int {
		if !main {
			L.RaiseError("run: called from a hook")
		}
		return e.run(L)
	}))
	L.SetField(g, "collect", L.NewFunction(func(L *lua.LState) int {
		if !main {
			// In a hook, collect is a no-op: the value is already the worker's.
			L.Push(L.Get(1))
			return 1
		}
		return e.collect(L)
	}))
	return L
}

// register records a hook. The same script serves both sides: a side
// keeps its own hooks and ignores the other side's.
func (e *engine) register(L *lua.LState, name string) int {
	fn, ok := L.Get(1).(*lua.LFunction)
	if !ok {
		L.RaiseError("%s: takes a function, got %s", name, L.Get(1).Type())
	}
	if e.ran {
		L.RaiseError("%s: registered after run()", name)
	}
	if _, dup := e.hooks[name]; dup {
		L.RaiseError("%s: registered twice", name)
	}
	e.hooks[name] = fn
	return 0
}

// collect wraps a value for collection from every worker.
func (e *engine) collect(L *lua.LState) int {
	if e.wrapMeta == nil {
		e.wrapMeta = L.NewTable()
		L.SetField(e.wrapMeta, "__collect", lua.LTrue)
		L.SetField(e.wrapMeta, "__metatable", lua.LString("collect() wrapper"))
	}
	w := L.NewTable()
	w.RawSetInt(1, L.Get(1))
	w.Metatable = e.wrapMeta
	e.wrappers = append(e.wrappers, w)
	L.Push(w)
	return 1
}

// isWrapper recognises a collect() wrapper of the main state.
func (e *engine) isWrapper(v lua.LValue) (lua.LValue, bool) {
	t, ok := v.(*lua.LTable)
	if !ok || e.wrapMeta == nil || t.Metatable != e.wrapMeta {
		return nil, false
	}
	return t.RawGetInt(1), true
}

// run is the script's run(): start the workers, wait for them, gather.
func (e *engine) run(L *lua.LState) int {
	if e.ran {
		L.RaiseError("run: called twice")
	}
	e.ran = true
	e.result, e.runErr = e.runner(e)
	if err := e.gather(); err != nil && e.runErr == nil {
		e.runErr = err
	}
	e.closeWorkers()
	if e.runErr != nil {
		// The run failed: the script's code after run() does not run.
		L.Error(runFailed(e.runErr), 0)
	}
	e.returned = true
	e.stop.afterRun()
	return 0
}

// print writes its arguments, tab-separated, to the run's writer.
func (e *engine) print(L *lua.LState) int {
	var b strings.Builder
	for i := 1; i <= L.GetTop(); i++ {
		if i > 1 {
			b.WriteByte('\t')
		}
		b.WriteString(L.ToStringMeta(L.Get(i)).String())
	}
	b.WriteByte('\n')
	io.WriteString(e.out, b.String())
	return 0
}

// luaAssert is assert as LuaJIT's: a message that is not a string (an
// error object from a wrapper, as in assert(setsockopt(...))) is raised
// through tostring, so the errno text is what the user sees.
func luaAssert(L *lua.LState) int {
	if v := L.Get(1); v != lua.LNil && v != lua.LFalse {
		return L.GetTop()
	}
	if L.GetTop() < 2 {
		L.RaiseError("assertion failed!")
	}
	msg := L.Get(2)
	if s, ok := msg.(lua.LString); ok {
		L.RaiseError("%s", string(s))
	}
	L.RaiseError("%s", L.ToStringMeta(msg).String())
	return 0
}

// write is io.write to the run's writer. It returns io.stdout, as Lua's
// does, so that io.write(a):write(b) goes to the same place.
func (e *engine) write(L *lua.LState) int {
	writeArgs(L, e.out, 1)
	L.Push(L.GetField(L.GetField(L.G.Global, "io"), "stdout"))
	return 1
}

// writeArgs writes the strings and numbers from argument first on, as
// Lua's file:write does, and numbers the arguments in its errors from
// there (a method's self is not counted, as in Lua).
func writeArgs(L *lua.LState, w io.Writer, first int) {
	for i := first; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			io.WriteString(w, string(v))
		case lua.LNumber:
			io.WriteString(w, v.String())
		default:
			L.ArgError(i-first+1, "string expected, got "+v.Type().String())
		}
	}
}

// newWriterFile makes io.stdout or io.stderr: a file object whose write
// goes to w (the run's writers, so that a Go test sees what a script
// prints), with the methods a script uses on a standard stream.
func newWriterFile(L *lua.LState, name string, w io.Writer) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = w
	methods := L.NewTable()
	self := func(L *lua.LState) *lua.LUserData {
		f := L.CheckUserData(1)
		if f.Value != w {
			L.ArgError(1, "io."+name+" expected")
		}
		return f
	}
	L.SetField(methods, "write", L.NewFunction(func(L *lua.LState) int {
		f := self(L)
		writeArgs(L, w, 2)
		L.Push(f)
		return 1
	}))
	L.SetField(methods, "flush", L.NewFunction(func(L *lua.LState) int {
		L.Push(self(L))
		return 1
	}))
	L.SetField(methods, "setvbuf", L.NewFunction(func(L *lua.LState) int {
		self(L)
		L.Push(lua.LTrue)
		return 1
	}))
	L.SetField(methods, "close", L.NewFunction(func(L *lua.LState) int {
		self(L)
		L.Push(lua.LNil)
		L.Push(lua.LString("cannot close standard file"))
		return 2
	}))
	mt := L.NewTable()
	L.SetField(mt, "__index", methods)
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("file (" + name + ")"))
		return 1
	}))
	L.SetMetatable(ud, mt)
	return ud
}

// lockedWriter serialises writes from several workers.
// lineWriter hands whole lines to w, each in one write under a lock, so
// that what two sides (--local) or two workers print never mixes within
// a line; flush writes what is left without a newline.
type lineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	i := bytes.LastIndexByte(l.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	_, err := l.w.Write(l.buf[:i+1])
	l.buf = append(l.buf[:0], l.buf[i+1:]...)
	return len(p), err
}

// flush writes what is left of a last line.
func (l *lineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		_, _ = l.w.Write(l.buf)
		l.buf = l.buf[:0]
	}
}

// ExitError is a script's os.exit(n): the run ends with status Code. In
// a Go program it is an error value, never the end of the process.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("the script called os.exit(%d)", e.Code) }

// osExit raises an ExitError through the Lua error machinery, so that it
// unwinds the script (or hook) and reaches the engine as a value.
func osExit(L *lua.LState) int {
	code := 0
	switch v := L.Get(1).(type) {
	case lua.LNumber:
		code = int(v)
	case lua.LBool:
		if !v {
			code = 1
		}
	}
	ud := L.NewUserData()
	ud.Value = &ExitError{Code: code}
	L.Error(ud, 0)
	return 0
}

// runFailure carries the kit's error out of run() through the script.
type runFailure struct{ err error }

func runFailed(err error) *lua.LUserData {
	return &lua.LUserData{Value: &runFailure{err}}
}

// scriptErr turns an error from a Lua call into a Go error: os.exit is an
// ExitError, a failed run its own error, anything else a message with the
// file and line and no traceback.
func scriptErr(err error) error {
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		return err
	}
	if ud, ok := ae.Object.(*lua.LUserData); ok {
		switch v := ud.Value.(type) {
		case *ExitError:
			return v
		case *runFailure:
			return v.err
		}
	}
	if errors.Is(ae.Cause, context.Canceled) {
		return ae.Cause
	}
	msg := ae.Object.String()
	if ae.Object == lua.LNil {
		msg = ae.Error()
	}
	return errors.New(strings.TrimSpace(msg))
}
