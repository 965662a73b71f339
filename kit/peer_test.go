package kit

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

// TestPeerClosed: every way a data connection shows that the peer went
// away lets the peer's own reason replace it; other failures do not.
func TestPeerClosed(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"eof", errPeerClosed, true},
		{"crr client's eof", fmt.Errorf("flow 3: %w", closedMidTransaction{}), true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"hook failure", errors.New("client_sendmsg returned EBADF"), false},
		{"no buffer space", fmt.Errorf("write: %w", syscall.ENOBUFS), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := peerClosed(tc.err); got != tc.want {
				t.Errorf("peerClosed(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
