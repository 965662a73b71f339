package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/hookperf/hookperf/kit"
)

// progressLines returns a Progress callback printing one line per interval
// to w, or nil when w is not a terminal or the run is short: progress is
// for a person watching, never for a parser.
func progressLines(w io.Writer, o *kit.Options) func(kit.Progress) {
	f, ok := w.(*os.File)
	if !ok || !isTerminal(f) || o.JSON || (o.TestLength > 0 && o.TestLength < 3e9) {
		return nil
	}
	return func(p kit.Progress) {
		if o.Workload.IsRR() {
			fmt.Fprintf(w, "hookperf: %6.1fs %12.0f trans/s  %d transactions\n", p.Elapsed.Seconds(), p.TransactionsPerSec, p.Transactions)
			return
		}
		fmt.Fprintf(w, "hookperf: %6.1fs %10.1f Mbit/s written %10.1f Mbit/s read\n", p.Elapsed.Seconds(), p.WriteMbps, p.ReadMbps)
	}
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// ioStatLines prints a client's --iostat-ms snapshots as neper does,
// "t=" lines among the report's key=value ones (on stderr when the
// report is JSON or a benchmark line).
func ioStatLines(stdout, stderr io.Writer, o *kit.Options) func(kit.IOStat) {
	if o.IOStatEvery <= 0 {
		return nil
	}
	w := stdout
	if o.JSON || o.GoBench {
		w = stderr
	}
	return func(s kit.IOStat) { fmt.Fprintf(w, "t=%s\n", s) }
}
