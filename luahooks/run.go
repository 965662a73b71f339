package luahooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"

	"github.com/hookperf/hookperf/kit"
)

// Env is what a scripted side needs beyond the kit's options.
type Env struct {
	// Args is the script's args table (--script-arg key=value).
	Args map[string]string
	// Out receives print, io.write and io.stdout:write (nil discards them).
	Out io.Writer
	// Err receives io.stderr:write (nil: the process's standard error).
	Err io.Writer
}

// Result is one scripted side's outcome: the kit's measurement and the
// values the script collected.
type Result struct {
	Kit *kit.Result
	// Collected maps each collect() variable (by its name in the script:
	// a global, a hook's upvalue, or name.field) to its final value in each
	// worker, in worker order, as Go values (nil, bool, float64, string,
	// []any, map[string]any).
	Collected map[string][]any
	// Workers is Kit.Workers (nil without a kit result): Workers[i] is
	// the worker whose values are Collected[name][i]. Its counts tell a
	// worker whose hooks never ran, and whose collected values are their
	// starting values, from one that served traffic.
	Workers []kit.WorkerFigures
}

// RunSide runs script s on one side (opts.Client chooses which): its top
// level, run() with the kit, then the code after run(). Errors: a
// *ScriptError for a script that fails before any traffic, an *ExitError
// for os.exit(n), a *kit.HookError for a failing hook, a *StoppedError for
// script code stopped because the run had ended (its Cause says how: a
// *kit.Interrupted, kit.ErrSuicide…), a *kit.Interrupted for a run ended
// early by an interrupt (with the figures so far), or the kit's error.
func RunSide(ctx context.Context, s *Script, opts kit.Options, cfg kit.SideConfig, env Env) (*Result, error) {
	return runSide(ctx, ctx, s, opts, cfg, env)
}

// runSide is RunSide with the script's own context apart from the kit's:
// the script stops when scriptCtx ends, the run when kitCtx does.
func runSide(scriptCtx, kitCtx context.Context, s *Script, opts kit.Options, cfg kit.SideConfig, env Env) (*Result, error) {
	side := kit.ServerSide
	if opts.Client {
		side = kit.ClientSide
	}
	e := newEngine(s, side, env)
	defer e.close()
	e.runner = func(hp kit.HookProvider) (*kit.Result, error) {
		c := cfg
		c.Hooks = hp
		return kit.Run(kitCtx, opts, c)
	}
	return e.execute(scriptCtx)
}

// execute runs the script's main chunk, and the workload if the script
// never called run(). The script is stopped when ctx ends, and its code
// after run() kit.StopGrace after the run.
func (e *engine) execute(ctx context.Context) (*Result, error) {
	L := e.L
	e.stop = newMainStop(ctx)
	defer e.stop.close()
	L.SetContext(e.stop)
	L.Push(L.NewFunctionFromProto(e.script.proto))
	err := L.PCall(0, 0, nil)
	switch {
	case !e.ran:
		err = e.stop.stopped(err, "the script's top level")
	case e.returned:
		err = e.stop.stopped(err, afterRun)
	}
	if err == nil && !e.ran {
		// No run() in the script: the workload runs after its top level.
		e.ran = true
		e.result, e.runErr = e.runner(e)
		if gerr := e.gather(); gerr != nil && e.runErr == nil {
			e.runErr = gerr
		}
		e.closeWorkers()
		err = e.runErr
	}
	e.closeWorkers()
	res := &Result{Kit: e.result, Collected: e.collected()}
	if e.result != nil {
		res.Workers = e.result.Workers
	}
	if err == nil {
		return res, nil
	}
	err = scriptErr(err)
	var exit *ExitError
	var stopped *StoppedError
	switch {
	case errors.As(err, &exit), errors.As(err, &stopped):
	case !e.ran:
		// Failed before any traffic: the script is at fault.
		err = &ScriptError{Msg: err.Error()}
	}
	return res, err
}

// LocalResult is both sides of a scripted local run.
type LocalResult struct {
	Server *Result
	Client *Result
}

// RunLocal runs a server and a client of opts in this process, each side
// running script s in its own engine, as two processes would: the top
// level runs once per side, is_client() tells them apart. server and
// client configure each side (namespaces, …); the envs give each side its
// args and output.
func RunLocal(ctx context.Context, s *Script, opts kit.Options, server, client kit.SideConfig, senv, cenv Env) (*LocalResult, error) {
	if err := opts.ValidateLocal(); err != nil {
		return nil, &kit.UsageError{Err: err}
	}
	both := opts // the larger side's threads (server.Threads is the server's -T)
	both.NumThreads = max(opts.NumThreads, server.Threads)
	if err := kit.Prepare(&both, true); err != nil {
		return nil, err
	}
	sopts, copts := opts, opts
	sopts.Client, copts.Client = false, true
	sopts.EnableRead, sopts.EnableWrite = false, false
	if opts.ControlPort == kit.DefaultControlPort {
		sopts.ControlPort = 0
	}
	if opts.DataPort == kit.DefaultDataPort {
		sopts.DataPort = 0
	}
	if opts.SuicideLength > 0 {
		// -s bounds the whole run, the scripts included.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.SuicideLength)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// An interrupt reaches the server through its client, which ends the
	// test for both and collects the server's figures.
	serverCtx, cancelServer := kit.IgnoreInterrupts(ctx)
	defer cancelServer(nil)
	listening := make(chan netip.AddrPort, 1)
	sc := server
	prev := sc.Listening
	sc.Listening = func(ap netip.AddrPort) {
		if prev != nil {
			prev(ap)
		}
		listening <- ap
	}
	var res LocalResult
	var serr error
	serverDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(serverDone)
		res.Server, serr = runSide(ctx, serverCtx, s, sopts, sc, senv)
		if serr != nil {
			cancel()
		}
	}()
	e := newEngine(s, kit.ClientSide, cenv)
	e.runner = func(hp kit.HookProvider) (*kit.Result, error) {
		select {
		case ap := <-listening:
			copts.ControlPort = int(ap.Port())
			if copts.Host == "" {
				copts.Host = ap.Addr().String()
			}
		case <-serverDone:
			return nil, fmt.Errorf("the server ended before it listened")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		c := client
		c.Hooks = hp
		return kit.Run(ctx, copts, c)
	}
	var cerr error
	res.Client, cerr = e.execute(ctx)
	e.close()
	if cerr != nil && !kit.EndsServer(cerr) {
		cancel()
		cancelServer(context.Canceled)
	}
	wg.Wait()
	return &res, kit.LocalError(cerr, serr)
}
