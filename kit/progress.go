package kit

import (
	"sync/atomic"
	"time"
)

// Progress is a side's running totals, reported once an interval while
// the test runs (SideConfig.Progress).
type Progress struct {
	Side         Side
	Elapsed      time.Duration // since the start of measurement
	Transactions uint64
	BytesRead    uint64
	BytesWritten uint64
	// Rates over the last interval.
	TransactionsPerSec float64
	ReadMbps           float64
	WriteMbps          float64
}

// published is what a worker shares of its counters, once an interval,
// for progress reports; the hot path never touches it.
type published struct {
	transactions, bytesRead, bytesWritten atomic.Uint64
}

func (p *published) store(c *counters) {
	p.transactions.Store(c.transactions)
	p.bytesRead.Store(c.bytesRead)
	p.bytesWritten.Store(c.bytesWritten)
}

// progressReporter sums the workers' published counters into Progress
// reports.
type progressReporter struct {
	s    *sideRun
	last Progress
}

// report calls the side's Progress callback with the current totals.
func (p *progressReporter) report() {
	s := p.s
	if s.cfg.Progress == nil || s.phase.Load() != phaseRunning {
		return
	}
	cur := Progress{Side: s.side, Elapsed: s.clock() - s.start}
	for _, w := range s.list {
		cur.Transactions += w.pub.transactions.Load()
		cur.BytesRead += w.pub.bytesRead.Load()
		cur.BytesWritten += w.pub.bytesWritten.Load()
	}
	if dt := (cur.Elapsed - p.last.Elapsed).Seconds(); dt > 0 {
		cur.TransactionsPerSec = float64(cur.Transactions-p.last.Transactions) / dt
		cur.ReadMbps = 8 * float64(cur.BytesRead-p.last.BytesRead) / dt / 1e6
		cur.WriteMbps = 8 * float64(cur.BytesWritten-p.last.BytesWritten) / dt / 1e6
	}
	p.last = cur
	s.cfg.Progress(cur)
}
