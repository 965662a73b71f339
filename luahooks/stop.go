package luahooks

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/hookperf/hookperf/kit"
)

// Stopping script code. gopher-lua checks a state's context before every
// instruction, and the socket layer's blocking calls (nanosleep, a read on
// a blocking socket) check it between short waits; a state whose context
// is done raises an error at its next instruction or wait.
//
// The main state's context ends with the run's context (an interrupt, -s,
// the peer's failure) and, once run() has returned, kit.StopGrace later:
// the code after run() has that long. A worker state's context (hookStop)
// ends only for the hook call the kit interrupted.

// StoppedError is script code that was still running when the run ended,
// and was stopped.
type StoppedError struct {
	// What was stopped: "the script's top level", "the script's code
	// after run()" or "the hook".
	What string
	// Where is the file:line it was stopped at ("" if unknown).
	Where string
	// Cause is why the run ended (an *kit.Interrupted for a signal).
	Cause error
}

func (e *StoppedError) Error() string {
	msg := fmt.Sprintf("%s was still running when %s", e.What, e.Cause)
	if e.Where != "" {
		msg += "; stopped at " + e.Where
	}
	return msg
}

func (e *StoppedError) Unwrap() error { return e.Cause }

// afterRun is the What of the code after run().
const afterRun = "the script's code after run()"

// MeasuredAll reports whether the run itself had ended before the script
// was stopped (the code after run() was), so that its figures are whole.
func (e *StoppedError) MeasuredAll() bool { return e.What == afterRun }

// errGraceOver is the cause of the code after run() or a hook call
// stopped once the run had ended.
var errGraceOver = fmt.Errorf("the run had been over for %v", kit.StopGrace)

// whereRE finds the file:line gopher-lua puts before a raised message.
var whereRE = regexp.MustCompile(`^([^\s:]+:\d+):`)

// stoppedAt is the file:line of a Lua error, if its message has one.
func stoppedAt(err error) string {
	var ae *lua.ApiError
	if !errors.As(err, &ae) || ae.Object == nil {
		return ""
	}
	if m := whereRE.FindStringSubmatch(ae.Object.String()); m != nil {
		return m[1]
	}
	return ""
}

// mainStop is the main state's context: the run's context, or a limit on
// the code after run(). Its Err is the reason, for the message gopher-lua
// raises.
type mainStop struct {
	context.Context // ends with the run, or when cancel is called
	cancel          context.CancelCauseFunc
	timer           *time.Timer
}

func newMainStop(ctx context.Context) *mainStop {
	c, cancel := context.WithCancelCause(ctx)
	return &mainStop{Context: c, cancel: cancel}
}

// Err is why the state was stopped.
func (m *mainStop) Err() error {
	if m.Context.Err() == nil {
		return nil
	}
	return m.cause()
}

func (m *mainStop) cause() error {
	cause := context.Cause(m.Context)
	switch {
	case errors.Is(cause, context.DeadlineExceeded):
		return kit.ErrSuicide
	case errors.Is(cause, context.Canceled):
		if d, ok := m.Context.Deadline(); ok && !time.Now().Before(d) {
			// -s ran out and the cancellation it set off (the peer's
			// failure, the side's stop) reached this state first.
			return kit.ErrSuicide
		}
		return fmt.Errorf("the run was cancelled (%w)", cause)
	}
	return cause
}

// afterRun starts the limit on the code after run().
func (m *mainStop) afterRun() {
	m.timer = time.AfterFunc(kit.StopGrace, func() { m.cancel(errGraceOver) })
}

// close releases the timer and the context.
func (m *mainStop) close() {
	if m.timer != nil {
		m.timer.Stop()
	}
	m.cancel(context.Canceled)
}

// stopped turns an error from the main state into a *StoppedError when
// the state was stopped.
func (m *mainStop) stopped(err error, what string) error {
	if err == nil || m.Context.Err() == nil {
		return err
	}
	var exit *ExitError
	if errors.As(scriptErr(err), &exit) {
		return err
	}
	return &StoppedError{What: what, Where: stoppedAt(err), Cause: m.cause()}
}

// hookStop is a worker state's context. The kit interrupts a worker whose
// hook call outlives the run (kit.Hooks.Interrupt, called repeatedly);
// a call that was already running at the previous interrupt is stopped,
// and the calls after it are not affected. calls counts hook calls twice,
// at entry and at exit, so it is odd while one runs.
type hookStop struct {
	calls   atomic.Uint64
	seen    atomic.Uint64 // calls at the last interrupt
	stopped atomic.Uint64 // the value of calls while the stopped call runs
}

// enter and leave bracket a hook call.
func (c *hookStop) enter() { c.calls.Add(1) }
func (c *hookStop) leave() { c.calls.Add(1) }

// interrupt stops the running hook call if it was running at the previous
// interrupt too.
func (c *hookStop) interrupt() {
	n := c.calls.Load()
	if n%2 == 1 && c.seen.Swap(n) == n {
		c.stopped.Store(n)
	}
}

// isStopped reports whether the running call was stopped.
func (c *hookStop) isStopped() bool {
	n := c.stopped.Load()
	return n != 0 && n == c.calls.Load()
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *hookStop) Deadline() (deadline time.Time, ok bool) { return }
func (c *hookStop) Value(key any) any                       { return nil }

// Done is a nil channel (a select on it falls through at once) unless the
// running call was stopped.
func (c *hookStop) Done() <-chan struct{} {
	if c.isStopped() {
		return closedChan
	}
	return nil
}

func (c *hookStop) Err() error {
	if c.isStopped() {
		return errHookStopped
	}
	return nil
}

var errHookStopped = errors.New("stopped: the hook was still running after the run ended")

// stoppedHook is the error of a hook call that was stopped.
func stoppedHook(err error) *StoppedError {
	return &StoppedError{What: "the hook", Where: stoppedAt(err), Cause: errGraceOver}
}

var _ context.Context = (*hookStop)(nil)
