package kit

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// With -S/--stime-use-proc a side's system time is not its own (getrusage
// leaves out the softirq work the kernel does for it on other threads
// and CPUs) but the whole machine's system, IRQ and softIRQ time from
// /proc/stat, counted from the side's start: neper's -S, for an otherwise
// idle machine.

// clockTick is the unit of /proc/stat's times (USER_HZ): 100 per second
// on every Linux architecture that Go supports.
const clockTick = 10 * time.Millisecond

// procStatSystemTime is the machine's system + IRQ + softIRQ time so far,
// from /proc/stat.
func procStatSystemTime() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("-S/--stime-use-proc: %w", err)
	}
	return parseProcStatSystemTime(bytes.NewReader(b))
}

// parseProcStatSystemTime reads the aggregate "cpu" line of /proc/stat:
// cpu user nice system idle iowait irq softirq steal …
func parseProcStatSystemTime(r io.Reader) (time.Duration, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) == 0 || string(f[0]) != "cpu" {
			continue
		}
		if len(f) < 8 {
			return 0, fmt.Errorf("-S/--stime-use-proc: /proc/stat's cpu line has %d fields, want 8 or more", len(f))
		}
		var ticks uint64
		for _, i := range []int{3, 6, 7} { // system, irq, softirq
			n, err := strconv.ParseUint(string(f[i]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("-S/--stime-use-proc: /proc/stat: %w", err)
			}
			ticks += n
		}
		return time.Duration(ticks) * clockTick, nil
	}
	return 0, fmt.Errorf("-S/--stime-use-proc: /proc/stat has no cpu line")
}

// rusage is the process's resource use, with -S the machine's system
// time since the side's start in place of its own.
func (s *sideRun) rusage() Rusage {
	ru := getRusage(0)
	if s.opts.StimeUseProc {
		ru.Stime = s.procStime()
	}
	return ru
}

// procStime is the machine's system time since the side started (0 if
// /proc/stat cannot be read: checked when the side started).
func (s *sideRun) procStime() time.Duration {
	now, err := procStatSystemTime()
	if err != nil {
		return 0
	}
	return now - s.stimeBase
}
