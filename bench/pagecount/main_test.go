package main

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

func TestParseLine(t *testing.T) {
	for _, c := range []struct {
		line string
		kind byte
		addr uint64
		ok   bool
	}{
		{"I  04012a0,5", 'I', 0x4012a0, true},
		{" L 0c000123456,8", 'L', 0xc000123456, true},
		{" S 1ffefff8a0,8", 'S', 0x1ffefff8a0, true},
		{" M 0c0a268,8", 'M', 0xc0a268, true},
		{"==4726== Lackey, an example Valgrind tool", 0, 0, false},
		{"PASS", 0, 0, false},
		{"I  zz,5", 0, 0, false},
		{" L 0c0", 0, 0, false},
		{"", 0, 0, false},
	} {
		kind, addr, ok := parseLine([]byte(c.line))
		assert.Equal(t, ok, c.ok, c.line)
		assert.Equal(t, kind, c.kind, c.line)
		assert.Equal(t, addr, c.addr, c.line)
	}
}

func TestSyscallOffsets(t *testing.T) {
	// MOVQ, SYSCALL, CMPQ, RET
	code := []byte{0x48, 0x8b, 0x44, 0x24, 0x08, 0x0f, 0x05, 0x48, 0x3d, 0x01, 0xf0, 0xff, 0xff, 0xc3}
	assert.DeepEqual(t, syscallOffsets(code), []int{5})
	assert.Equal(t, len(syscallOffsets([]byte{0x0f})), 0)
}

// testSymbols has four functions, with a system call in the stub and
// one in the monitor's sleep.
func testSymbols() *symbols {
	return &symbols{
		starts:     []uint64{0x401000, 0x402000, 0x403000, 0x404000},
		ends:       []uint64{0x401100, 0x402100, 0x403100, 0x404100},
		names:      []string{syscallStub, "main.loop", "runtime.sysmon", monitorSleep},
		syscalls:   map[uint64]bool{0x401005: true},
		sleepStart: 0x404000, sleepEnd: 0x404100,
		sleepCall: map[uint64]bool{0x404010: true},
	}
}

func TestCut(t *testing.T) {
	const trace = `==1== start
I  0402000,4
 L 0c000001000,8
I  0401005,2
I  0402004,4
 L 0c000001000,8
 S 0c000005008,8
I  0402104,4
I  0401005,2
I  0402000,4
I  0404012,2
I  0403000,4
 L 0c000009000,8
I  0401005,2
I  0404010,2
I  0402010,4
 L 0c000009000,8
I  0401005,2
I  0402000,4
 L 0c000001000,8
 S 0c000005000,8
I  0402008,4
I  0401005,2
I  0402000,4
`
	ss, err := cut(strings.NewReader(trace), testSymbols())
	assert.NilError(t, err)
	// Before the first call and after the last are left out.
	assert.Equal(t, len(ss), 3)

	type got struct{ Text, Data, Insts int }
	var all []got
	for _, s := range ss {
		all = append(all, got{len(s.textFirst), len(s.dataFirst), s.insts})
	}
	assert.DeepEqual(t, all, []got{
		// 0x402004 and the stub's page, two data pages; the unnamed
		// 0x402104 (past main.loop's end) is on 0x402000's page
		{Text: 2, Data: 2, Insts: 3},
		// the monitor woke (0x404012), ran and made its epoll_wait
		// through the stub, and slept (0x404010): none of it counts
		{Text: 2, Data: 1, Insts: 3},
		{Text: 2, Data: 2, Insts: 3},
	})
	assert.Equal(t, ss[0].textFirst[0x402], "main.loop")
	assert.Equal(t, ss[0].textFirst[0x401], syscallStub)
	assert.Equal(t, ss[0].dataFirst[0xc000001], "main.loop")
	assert.Equal(t, ss[1].dataFirst[0xc000009], "main.loop")

	m, n := common(ss)
	assert.Equal(t, n, 2)
	assert.Equal(t, m, ss[0])
}

func TestFunctionOutsideSymbols(t *testing.T) {
	name, start, end := testSymbols().function(0x500000)
	assert.Equal(t, name, "?0x500000")
	assert.Equal(t, start, uint64(0x500000))
	assert.Equal(t, end, uint64(0x500001))
	name, start, end = testSymbols().function(0x402010)
	assert.Equal(t, name, "main.loop")
	assert.Equal(t, start, uint64(0x402000))
	assert.Equal(t, end, uint64(0x402100))
}
