// Command pagecount counts the distinct pages of code and data that a Go
// program touches between two system calls, from a valgrind lackey trace
// of it (valgrind --tool=lackey --trace-mem=yes).
//
// On a machine whose kernel runs with page-table isolation and no PCID,
// every system call empties the TLB, so each page touched between two
// calls costs a page walk: on this project's VMs the count is what a hook
// call costs beyond its instructions, and unlike a timing it is the same
// on every run. bench/hook-pages.sh runs it on the hook call benchmarks.
//
// Usage:
//
//	GODEBUG=asyncpreemptoff=1 valgrind --tool=lackey --trace-mem=yes --log-fd=3 ./x.test ... 3>&1 >/dev/null |
//		pagecount -bin ./x.test [-list]
//
// (Without asyncpreemptoff, the signal that preempts a goroutine running
// past its slice, frequent under valgrind, cuts a round in two at its
// rt_sigreturn; bench/hook-pages.sh sets it.)
//
// The stretches are cut at the SYSCALL instructions of the Go runtime's
// system call stub (internal/runtime/syscall/linux.Syscall6), which every
// data-path call goes through. It prints the page counts most stretches
// share (a benchmark loop's rounds) and, with -list, the pages of one such
// stretch with the function that first touched each.
package main

import (
	"bufio"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
)

func main() {
	bin := flag.String("bin", "", "the traced `binary`, for its symbols and system call stub")
	list := flag.Bool("list", false, "list the pages of one of the stretches alike, with the function that first touched each")
	flag.Parse()
	if *bin == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: pagecount -bin BINARY [-list] < lackey-trace")
		os.Exit(2)
	}
	syms, err := readSymbols(*bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pagecount:", err)
		os.Exit(1)
	}
	stretches, err := cut(os.Stdin, syms)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pagecount:", err)
		os.Exit(1)
	}
	if len(stretches) == 0 {
		fmt.Fprintln(os.Stderr, "pagecount: no system call in the trace")
		os.Exit(1)
	}
	m, n := common(stretches)
	c := m.counts()
	fmt.Printf("text pages %d  data pages %d  instructions %d  (%d of %d stretches alike)\n",
		c.text, c.data, m.insts, n, len(stretches))
	if *list {
		m.print(os.Stdout)
	}
}

// pageShift is log2 of the page size the TLB maps on these machines.
const pageShift = 12

// stretch is what the program touched between two system calls.
type stretch struct {
	insts     int
	textFirst map[uint64]string // page → the function that first ran code in it
	dataFirst map[uint64]string // page → the function that first read or wrote it
}

func newStretch() *stretch {
	return &stretch{textFirst: map[uint64]string{}, dataFirst: map[uint64]string{}}
}

// touch records page as touched, by fn if it is the first.
func touch(pages map[uint64]string, page uint64, fn string) {
	if _, seen := pages[page]; !seen {
		pages[page] = fn
	}
}

// counts is how many pages of code and of data a stretch touched.
type counts struct{ text, data int }

func (s *stretch) counts() counts { return counts{len(s.textFirst), len(s.dataFirst)} }

func (s *stretch) print(w io.Writer) {
	for _, kind := range []struct {
		name  string
		pages map[uint64]string
	}{{"text", s.textFirst}, {"data", s.dataFirst}} {
		keys := make([]uint64, 0, len(kind.pages))
		for p := range kind.pages {
			keys = append(keys, p)
		}
		slices.Sort(keys)
		for _, p := range keys {
			fmt.Fprintf(w, "%s %#x %s\n", kind.name, p<<pageShift, kind.pages[p])
		}
	}
}

// common is the first of the stretches with the most frequent page
// counts, and how many there are: a loop that makes one system call per
// round touches the same pages every round, while the program's start
// and end are each different.
func common(ss []*stretch) (*stretch, int) {
	n := map[counts]int{}
	for _, s := range ss {
		n[s.counts()]++
	}
	var best *stretch
	for _, s := range ss {
		if best == nil || n[s.counts()] > n[best.counts()] {
			best = s
		}
	}
	return best, n[best.counts()]
}

// symbols names code addresses and knows where the system calls are.
type symbols struct {
	starts   []uint64 // sorted
	names    []string
	ends     []uint64
	syscalls map[uint64]bool // addresses of the stub's SYSCALL instructions
	// The monitor thread's sleep: its code, and its SYSCALL.
	sleepStart, sleepEnd uint64
	sleepCall            map[uint64]bool
}

// syscallStub is the function through which the Go runtime and
// x/sys/unix make system calls on linux/amd64.
const syscallStub = "internal/runtime/syscall/linux.Syscall6"

func readSymbols(path string) (*symbols, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	elfSyms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	text := f.Section(".text")
	if text == nil {
		return nil, errors.New(path + ": no .text section")
	}
	s := &symbols{syscalls: map[uint64]bool{}, sleepCall: map[uint64]bool{}}
	type fn struct {
		start, end uint64
		name       string
	}
	var fns []fn
	for _, e := range elfSyms {
		if elf.ST_TYPE(e.Info) != elf.STT_FUNC || e.Value == 0 {
			continue
		}
		fns = append(fns, fn{e.Value, e.Value + e.Size, e.Name})
		if e.Name != syscallStub && e.Name != monitorSleep {
			continue
		}
		code := make([]byte, e.Size)
		if _, err := text.ReadAt(code, int64(e.Value-text.Addr)); err != nil {
			return nil, fmt.Errorf("reading %s: %w", e.Name, err)
		}
		calls := s.syscalls
		if e.Name == monitorSleep {
			s.sleepStart, s.sleepEnd, calls = e.Value, e.Value+e.Size, s.sleepCall
		}
		for _, off := range syscallOffsets(code) {
			calls[e.Value+uint64(off)] = true
		}
	}
	if len(s.syscalls) == 0 {
		return nil, fmt.Errorf("%s: no SYSCALL instruction in %s", path, syscallStub)
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].start < fns[j].start })
	for _, f := range fns {
		s.starts, s.ends, s.names = append(s.starts, f.start), append(s.ends, f.end), append(s.names, f.name)
	}
	return s, nil
}

// syscallOffsets finds the SYSCALL instructions (0f 05) in a stub's code.
// The stub is a few moves and one SYSCALL, so a byte search is exact
// enough: a false match would only cut one stretch more.
func syscallOffsets(code []byte) []int {
	var offs []int
	for i := 0; i+1 < len(code); i++ {
		if code[i] == 0x0f && code[i+1] == 0x05 {
			offs = append(offs, i)
		}
	}
	return offs
}

// function is the function whose code holds addr and its bounds, or a
// made-up name and a one-byte range outside every function.
func (s *symbols) function(addr uint64) (name string, start, end uint64) {
	i := sort.Search(len(s.starts), func(i int) bool { return s.starts[i] > addr }) - 1
	if i < 0 || addr >= s.ends[i] {
		return fmt.Sprintf("?%#x", addr), addr, addr + 1
	}
	return s.names[i], s.starts[i], s.ends[i]
}

// monitorSleep is where the Go runtime's monitor thread (sysmon) sleeps
// between its rounds. Under valgrind the threads take turns, so a round
// of the monitor shows up in the trace between two steps of the program:
// from the instruction after this function's SYSCALL, when it wakes, to
// that SYSCALL, when it sleeps again. Those rounds are left out; the
// monitor's epoll_wait, which goes through the same stub as the program's
// calls, then cuts no stretch.
const monitorSleep = "runtime.usleep.abi0"

// cut reads a lackey trace and returns the stretches between system
// calls, leaving out the part before the first call and after the last.
func cut(r io.Reader, syms *symbols) ([]*stretch, error) {
	var (
		out        []*stretch
		cur        *stretch // nil before the first system call
		current    string   // the function running
		start, end uint64   // its code
		monitor    bool     // the runtime's monitor thread is running
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		kind, addr, ok := parseLine(sc.Bytes())
		if !ok {
			continue
		}
		if kind == 'I' && addr >= syms.sleepStart && addr < syms.sleepEnd {
			monitor = !syms.sleepCall[addr]
			continue
		}
		if monitor {
			continue
		}
		if kind == 'I' {
			if addr < start || addr >= end {
				current, start, end = syms.function(addr)
			}
			if cur != nil {
				cur.insts++
				touch(cur.textFirst, addr>>pageShift, current)
			}
			if syms.syscalls[addr] {
				if cur != nil {
					out = append(out, cur)
				}
				cur = newStretch()
			}
			continue
		}
		if cur != nil {
			touch(cur.dataFirst, addr>>pageShift, current)
		}
	}
	return out, sc.Err()
}

// parseLine reads one lackey line: "I  04012a0,5" for an instruction,
// " L 0c000123456,8" (or S, M) for a data access. Other lines (valgrind's
// own, the program's output) are not ok.
func parseLine(b []byte) (kind byte, addr uint64, ok bool) {
	if len(b) < 4 {
		return 0, 0, false
	}
	switch {
	case b[0] == 'I' && b[1] == ' ' && b[2] == ' ':
		kind = 'I'
	case b[0] == ' ' && (b[1] == 'L' || b[1] == 'S' || b[1] == 'M') && b[2] == ' ':
		kind = b[1]
	default:
		return 0, 0, false
	}
	rest := b[3:]
	comma := slices.Index(rest, ',')
	if comma <= 0 {
		return 0, 0, false
	}
	addr, err := strconv.ParseUint(string(rest[:comma]), 16, 64)
	if err != nil {
		return 0, 0, false
	}
	return kind, addr, true
}
