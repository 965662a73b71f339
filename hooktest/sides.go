package hooktest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/luahooks"
)

// sides is a run whose server's options differ from its client's.
type sides struct {
	script         *luahooks.Script
	sopts, copts   kit.Options
	server, client kit.SideConfig
	senv, cenv     luahooks.Env
}

// run runs the script on a server with sopts and a client with copts in
// this process, as luahooks.RunLocal does with one set of options for
// both: here the server's may differ (its worker threads, which a server
// never takes from its client).
func (p sides) run(ctx context.Context) (*luahooks.LocalResult, error) {
	s, sopts, copts, server, client := p.script, p.sopts, p.copts, p.server, p.client
	both := sopts
	both.NumThreads = max(sopts.NumThreads, copts.NumThreads)
	if err := kit.Prepare(&both, true); err != nil {
		return nil, err
	}
	sopts.Client, copts.Client = false, true
	sopts.EnableRead, sopts.EnableWrite = false, false
	if sopts.ControlPort == kit.DefaultControlPort {
		sopts.ControlPort = 0
	}
	if sopts.DataPort == kit.DefaultDataPort {
		sopts.DataPort = 0
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listening := make(chan netip.AddrPort, 1)
	server.Listening = func(ap netip.AddrPort) { listening <- ap }
	var res luahooks.LocalResult
	var serr, cerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		res.Server, serr = luahooks.RunSide(ctx, s, sopts, server, p.senv)
		if serr != nil {
			cancel()
		}
	}()
	select {
	case ap := <-listening:
		copts.ControlPort = int(ap.Port())
		res.Client, cerr = luahooks.RunSide(ctx, s, copts, client, p.cenv)
		if cerr != nil {
			cancel()
		}
	case <-done:
		cerr = errors.New("the server ended before it listened")
	}
	<-done
	switch {
	case serr != nil && (cerr == nil || errors.Is(cerr, context.Canceled)):
		return &res, fmt.Errorf("server: %w", serr)
	case cerr != nil && serr != nil && !errors.Is(serr, context.Canceled):
		return &res, fmt.Errorf("client: %w; server: %w", cerr, serr)
	case cerr != nil:
		return &res, fmt.Errorf("client: %w", cerr)
	}
	return &res, nil
}
