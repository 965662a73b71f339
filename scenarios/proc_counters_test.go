package scenarios

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/netns"
)

// procCounters reads one group of the kernel's counters in ns, as
// /proc/net/snmp and /proc/net/netstat write them: a line of names under
// a prefix ("Udp:", "TcpExt:"), then a line of values under the same
// prefix. file is "snmp" or "netstat".
func procCounters(t *testing.T, ns *netns.NS, file, prefix string) map[string]uint64 {
	t.Helper()
	var text string
	err := ns.Do(func() error {
		b, err := os.ReadFile("/proc/thread-self/net/" + file)
		text = string(b)
		return err
	})
	assert.NilError(t, err)
	var names, values []string
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix+": "); ok {
			if names == nil {
				names = strings.Fields(rest)
			} else {
				values = strings.Fields(rest)
			}
		}
	}
	assert.Assert(t, len(names) > 0 && len(names) == len(values), "no %s counters in the namespace's %s:\n%s", prefix, file, text)
	m := map[string]uint64{}
	for i, n := range names {
		v, err := strconv.ParseUint(values[i], 10, 64)
		assert.NilError(t, err)
		m[n] = v
	}
	return m
}
