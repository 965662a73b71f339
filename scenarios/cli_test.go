package scenarios

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

// TestCLIBetweenNamespaces runs the hookperf binary as neper is run
// between two hosts: `hookperf WORKLOAD` on the server, `hookperf WORKLOAD
// -c -H SERVER` on the client, default ports, each in its own namespace,
// the traffic over the veth link.
func TestCLIBetweenNamespaces(t *testing.T) {
	bin := buildCLI(t)
	topo := nstest.Pair(t, nstest.PairConfig{})
	v4, v6 := topo.ServerAddr4.String(), topo.ServerAddr6.String()
	tests := []struct {
		name           string
		server, client []string
	}{
		{"tcp_rr", []string{"tcp_rr"}, []string{"tcp_rr", "-c", "-H", v4}},
		{"tcp_rr 10 flows 2 threads", []string{"tcp_rr", "-F", "10", "-T", "2"}, []string{"tcp_rr", "-c", "-H", v4, "-F", "10", "-T", "2"}},
		{"tcp_crr", []string{"tcp_crr"}, []string{"tcp_crr", "-c", "-H", v4}},
		{"tcp_stream reversed", []string{"tcp_stream", "-w"}, []string{"tcp_stream", "-c", "-H", v4, "-r"}},
		{"udp_rr over IPv6", []string{"udp_rr", "-6"}, []string{"udp_rr", "-c", "-6", "-H", v6}},
		{"udp_stream", []string{"udp_stream"}, []string{"udp_stream", "-c", "-H", v4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startIn(t, topo.Server, bin, append(tc.server, "-l", "2")...)
			args := append(tc.client, "-l", "1")
			if strings.HasSuffix(tc.client[0], "rr") {
				args = append(args, "-p", "50,99") // latency percentiles are rr's
			}
			client := startIn(t, topo.Client, bin, args...)
			c, s := client.wait(t), server.wait(t)
			w := tc.server[0]
			if strings.HasSuffix(w, "rr") {
				ct, st, flows := c.num(t, "num_transactions"), s.num(t, "num_transactions"), c.num(t, "num_flows")
				assert.Assert(t, ct > 100, "client transactions: %v", ct)
				assert.Assert(t, st >= ct && st <= ct+flows, "server %v, client %v transactions over %v flows", st, ct, flows)
				assert.Assert(t, c.num(t, "latency_p99") >= c.num(t, "latency_p50"))
			} else {
				// Both sides' headline is what the receiver counted.
				assert.Assert(t, c.num(t, "throughput_Mbps") > 1, "client: %s", c.out)
				assert.Equal(t, c.kv["throughput_Mbps"], s.kv["throughput_Mbps"])
			}
			// Each side prints the other's rate.
			assert.Equal(t, c.kv["remote_throughput"], s.kv["local_throughput"])
			assert.Equal(t, s.kv["remote_throughput"], c.kv["local_throughput"])
			// The server learns the test's shape from its client.
			for _, k := range []string{"num_flows", "test_length"} {
				assert.Equal(t, s.kv[k], c.kv[k], "%s", k)
			}
		})
	}
}

// buildCLI builds the hookperf binary for the test.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hookperf")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/hookperf/hookperf/cmd/hookperf").CombinedOutput()
	assert.NilError(t, err, "go build: %s", out)
	return bin
}

// cliProc is a hookperf process started in a namespace.
type cliProc struct {
	cmd         *exec.Cmd
	stdout      bytes.Buffer
	stderr      bytes.Buffer
	done        chan error
	out         string
	kv          map[string]string
	description string
}

// startIn starts bin with args in namespace ns (the process is forked from
// a thread inside it) and kills it when the test ends.
func startIn(t *testing.T, ns *netns.NS, bin string, args ...string) *cliProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	p := &cliProc{cmd: exec.CommandContext(ctx, bin, args...), done: make(chan error, 1),
		description: "hookperf " + strings.Join(args, " ")}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	assert.NilError(t, ns.Do(p.cmd.Start), "%s", p.description)
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// wait waits for the process, requires exit status 0 and parses its
// key=value output.
func (p *cliProc) wait(t *testing.T) *cliProc {
	t.Helper()
	err := <-p.done
	p.done <- err // for the cleanup
	p.out = p.stdout.String()
	assert.NilError(t, err, "%s: stderr %q", p.description, p.stderr.String())
	p.kv = map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(p.out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		assert.Assert(t, ok, "%s: line %q is not key=value", p.description, line)
		p.kv[k] = v
	}
	return p
}

// num is the numeric value of key.
func (p *cliProc) num(t *testing.T, key string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(p.kv[key], 64)
	assert.NilError(t, err, "%s: %s=%q", p.description, key, p.kv[key])
	return v
}
