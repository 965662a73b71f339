package kit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// StopGrace is how long code of a hook or script may go on running once
// the run has ended (its length reached, -s, a failure, an interrupt)
// before it is stopped: a hook call still running then is interrupted
// (Hooks.Interrupt), and a script's code after run() is stopped.
const StopGrace = time.Second

// ErrSuicide is the error of a run that took longer than
// Options.SuicideLength (-s) allows.
var ErrSuicide = errors.New("the run took longer than -s/--suicide-length allows")

// Interrupted ends a run early, as Ctrl-C does. A caller cancels the
// run's context with it as the cause (context.WithCancelCause): a client
// stops measuring, tells its server and returns what it measured; a server
// tells its clients, which do the same. Either way the run returns its
// result with an *Interrupted error, Peer set on the side that was told.
type Interrupted struct {
	// Reason names the interrupt, e.g. "SIGINT".
	Reason string
	// Side is the side that was interrupted.
	Side Side
	// Peer is set when the peer was interrupted, not this side.
	Peer bool
	// After is how long the test had run (0: it had not started).
	After time.Duration
	// NoFigures is set when the test had run but its figures were lost:
	// a hook had to be stopped after the interrupt.
	NoFigures bool
}

func (e *Interrupted) Error() string {
	who := "interrupted"
	if e.Peer {
		who = fmt.Sprintf("the %s was interrupted", e.Side)
	}
	if e.Reason != "" {
		who += " (" + e.Reason + ")"
	}
	if e.After <= 0 {
		return who + " before the test started"
	}
	if e.NoFigures {
		return fmt.Sprintf("%s after %.2f s of the test", who, e.After.Seconds())
	}
	return fmt.Sprintf("%s after %.2f s of the test: the figures cover that time", who, e.After.Seconds())
}

// interruption returns the Interrupted cause that ended ctx, or nil.
func interruption(ctx context.Context) *Interrupted {
	var in *Interrupted
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &in) {
		return in
	}
	return nil
}

// IgnoreInterrupts returns a context that ends when ctx does, except when
// ctx ends with an *Interrupted cause: for the server of a run whose
// client, in the same process, sees the interrupt and ends the test for
// both. cancel ends it (with cause) in any case.
func IgnoreInterrupts(ctx context.Context) (context.Context, context.CancelCauseFunc) {
	c, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		if interruption(ctx) == nil {
			cancel(context.Cause(ctx))
		}
	})
	return c, func(cause error) {
		stop()
		cancel(cause)
	}
}

// EndsServer reports whether a client's error leaves its server to end
// on its own: the client was interrupted during the test and told its
// server, which reports and ends without being cancelled.
func EndsServer(err error) bool {
	var in *Interrupted
	return errors.As(err, &in) && !in.Peer && in.After > 0
}
