package kit

import (
	"fmt"
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

// published is what a worker shares of its counters, once an interval
// (with --iostat-ms, after every batch of events), for progress reports;
// the hot path never touches it.
type published struct {
	transactions, bytesRead, bytesWritten, readOps, writeOps atomic.Uint64
}

func (p *published) store(c *counters) {
	p.transactions.Store(c.transactions)
	p.bytesRead.Store(c.bytesRead)
	p.bytesWritten.Store(c.bytesWritten)
	p.readOps.Store(c.readOps)
	p.writeOps.Store(c.writeOps)
}

// IOStat is neper's --iostat-ms snapshot: what a client's workers moved
// since the previous one (read and write calls and bytes), and when.
type IOStat struct {
	Elapsed                time.Duration // since the start of measurement
	Span                   time.Duration // since the previous snapshot
	WriteOps, WriteBytes   uint64
	ReadOps, ReadBytes     uint64
	WriteMbps, ReadMbps    float64
	totalWrites, totalRead struct{ ops, bytes uint64 }
}

// String is neper's line, after its "t=".
func (s IOStat) String() string {
	return fmt.Sprintf("%-10.3f TX: %6d ops, %10d bytes, %8.1f Mbps; RX: %6d ops, %10d bytes, %8.1f Mbps;",
		s.Elapsed.Seconds(), s.WriteOps, s.WriteBytes, s.WriteMbps, s.ReadOps, s.ReadBytes, s.ReadMbps)
}

// ioStat sums the workers' published counters into a snapshot since
// prev.
func (s *sideRun) ioStat(prev IOStat) IOStat {
	cur := IOStat{Elapsed: s.clock() - s.start}
	for _, w := range s.list {
		cur.totalWrites.ops += w.pub.writeOps.Load()
		cur.totalWrites.bytes += w.pub.bytesWritten.Load()
		cur.totalRead.ops += w.pub.readOps.Load()
		cur.totalRead.bytes += w.pub.bytesRead.Load()
	}
	cur.Span = cur.Elapsed - prev.Elapsed
	cur.WriteOps = cur.totalWrites.ops - prev.totalWrites.ops
	cur.WriteBytes = cur.totalWrites.bytes - prev.totalWrites.bytes
	cur.ReadOps = cur.totalRead.ops - prev.totalRead.ops
	cur.ReadBytes = cur.totalRead.bytes - prev.totalRead.bytes
	if dt := cur.Span.Seconds(); dt > 0 {
		cur.WriteMbps = 8 * float64(cur.WriteBytes) / dt / 1e6
		cur.ReadMbps = 8 * float64(cur.ReadBytes) / dt / 1e6
	}
	return cur
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
