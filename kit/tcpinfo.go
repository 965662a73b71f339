package kit

import (
	"time"

	"golang.org/x/sys/unix"
)

// tcpTotals sums what TCP_INFO says of a side's connections as each one
// ends: how many, their retransmitted segments and their smoothed RTTs.
// tcp_rr and tcp_stream only: tcp_crr would pay a system call per
// transaction for it.
type tcpTotals struct {
	conns   uint64
	retrans uint64
	rttSum  time.Duration
}

func (t *tcpTotals) add(o *tcpTotals) {
	t.conns += o.conns
	t.retrans += o.retrans
	t.rttSum += o.rttSum
}

// tcpConn is a flow over one lasting TCP connection.
type tcpConn interface {
	tcpFD() int
}

func (f *rrClient) tcpFD() int   { return f.fd }
func (f *rrServer) tcpFD() int   { return f.fd }
func (f *streamFlow) tcpFD() int { return f.fd }

// noteTCPInfo adds the connection fd's TCP_INFO to the worker's totals.
func (w *worker) noteTCPInfo(fd int) {
	ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return
	}
	w.tcp.conns++
	w.tcp.retrans += uint64(ti.Total_retrans)
	w.tcp.rttSum += time.Duration(ti.Rtt) * time.Microsecond
}

// noteOpenTCP takes the TCP_INFO of the connections still open when the
// worker's run ends (those that ended before were noted as they did).
func (w *worker) noteOpenTCP() {
	for _, f := range w.flows {
		if c, ok := f.(tcpConn); ok && c.tcpFD() >= 0 {
			w.noteTCPInfo(c.tcpFD())
		}
	}
}
