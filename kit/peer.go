package kit

import (
	"errors"
	"syscall"
	"time"
)

// A side that fails tells its peer why over the control connection
// (abort). The peer's data connections may break first (a reset, an EOF);
// the peer then waits a moment for that reason, so that the first cause
// is reported first.

// PeerError is the peer's failure, as the peer told it over the control
// connection.
type PeerError struct {
	Side Side   // the side that failed
	Msg  string // its error
	// Refused is set when a server turned its client away before the test
	// (a wrong magic, unusable options, or its own setup failed).
	Refused bool
}

func (e *PeerError) Error() string {
	if e.Refused {
		return "control: the server refused: " + e.Msg
	}
	return e.Side.String() + " failed: " + e.Msg
}

// peerClosed reports whether err is how a data connection shows that the
// peer went away: the peer's own failure, which the control connection
// explains.
func peerClosed(err error) bool {
	if errors.Is(err, errPeerClosed) {
		return true
	}
	var e syscall.Errno
	return errors.As(err, &e) && peerGone(e)
}

// peerCauseWait bounds how long a side whose data connections broke waits
// for its peer's reason on the control connection.
const peerCauseWait = time.Second

// peerCause explains a failure that shows the peer went away (a reset, an
// EOF) by the peer's own failure, when the peer reports one over the
// control connection soon enough: the first cause is reported first.
func (s *sideRun) peerCause(err error, events chan event) error {
	if !peerClosed(err) {
		return err
	}
	t := time.NewTimer(peerCauseWait)
	defer t.Stop()
	for {
		select {
		case ev := <-events:
			if ev.err != nil {
				return err
			}
			if ev.m.Type == msgAbort {
				return &PeerError{Side: s.side.other(), Msg: ev.m.Error}
			}
		case <-t.C:
			return err
		}
	}
}
