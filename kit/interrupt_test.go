package kit

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// TestInterruptEndsTheTestOnBothSides: a run whose context is cancelled
// with an *Interrupted cause mid-test stops there; both sides report what
// they measured, and the error says who was interrupted and after how long.
func TestInterruptEndsTheTestOnBothSides(t *testing.T) {
	for _, w := range []Workload{TCPRR, TCPCRR, UDPRR, TCPStream} {
		t.Run(string(w), func(t *testing.T) {
			o := localOpts(w)
			o.TestLength = 30 * time.Second
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			time.AfterFunc(700*time.Millisecond, func() { cancel(&Interrupted{Reason: "SIGINT"}) })
			start := time.Now()
			r, err := RunLocal(ctx, o, SideConfig{}, SideConfig{})
			assert.Assert(t, time.Since(start) < 5*time.Second, "took %v", time.Since(start))
			var in *Interrupted
			assert.Assert(t, errors.As(err, &in), "%v", err)
			assert.Equal(t, in.Reason, "SIGINT")
			assert.Equal(t, in.Side, ClientSide)
			assert.Assert(t, !in.Peer)
			assert.Assert(t, in.After > 300*time.Millisecond && in.After < 3*time.Second, "after %v", in.After)
			checkInterruptedResult(t, w, r.Client, r.Server)
		})
	}
}

// TestServerInterruptReachesClient: the server of two separate sides is
// interrupted; its client stops too, reports both sides' figures, and
// says the server was interrupted.
func TestServerInterruptReachesClient(t *testing.T) {
	o := localOpts(TCPRR)
	o.TestLength = 30 * time.Second
	so := o
	so.ControlPort, so.DataPort = 0, 0
	sctx, interrupt := context.WithCancelCause(context.Background())
	defer interrupt(nil)
	listening := make(chan netip.AddrPort, 1)
	type outcome struct {
		r   *Result
		err error
	}
	served := make(chan outcome, 1)
	go func() {
		r, err := Run(sctx, so, SideConfig{Listening: func(ap netip.AddrPort) { listening <- ap }})
		served <- outcome{r, err}
	}()
	co := o
	co.Client, co.ControlPort = true, int((<-listening).Port())
	time.AfterFunc(700*time.Millisecond, func() { interrupt(&Interrupted{Reason: "SIGTERM"}) })
	client, cerr := Run(context.Background(), co, SideConfig{})
	srv := <-served

	var in *Interrupted
	assert.Assert(t, errors.As(srv.err, &in), "server: %v", srv.err)
	assert.Equal(t, *in, Interrupted{Reason: "SIGTERM", Side: ServerSide, After: in.After})
	assert.Assert(t, errors.As(cerr, &in), "client: %v", cerr)
	assert.Equal(t, *in, Interrupted{Reason: "SIGTERM", Side: ServerSide, Peer: true, After: in.After})
	assert.ErrorContains(t, cerr, "the server was interrupted (SIGTERM) after ")
	checkInterruptedResult(t, TCPRR, client, srv.r)
}

// checkInterruptedResult: both sides measured, for less than the test's
// length, the same transactions but for one in flight per flow, and each
// knows the other's figures.
func checkInterruptedResult(t *testing.T, w Workload, client, server *Result) {
	t.Helper()
	assert.Assert(t, client != nil && server != nil)
	assert.Assert(t, client.TotalRunTime > 0 && client.TotalRunTime < 5*time.Second, "client ran %v", client.TotalRunTime)
	if w.IsRR() {
		assert.Assert(t, client.Transactions > 0)
		diff := int64(client.Transactions) - int64(server.Transactions)
		assert.Assert(t, diff >= -1 && diff <= 1, "client %d, server %d transactions", client.Transactions, server.Transactions)
	} else {
		assert.Assert(t, client.BytesWritten > 0)
		assert.Equal(t, server.BytesRead, client.BytesWritten)
	}
	assert.Assert(t, client.Remote != nil && server.Remote != nil, "the sides' figures were not exchanged")
	assert.Assert(t, client.Interrupted != "" && client.Interrupted == server.Interrupted, "client %q, server %q", client.Interrupted, server.Interrupted)
}
